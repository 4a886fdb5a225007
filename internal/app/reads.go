package app

import (
	"context"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// What the front ends read as it is stored: a wave, a group, their
// timelines and reports, the deployment's settings, webhooks, tokens and
// the audit log. Views that compose (a user looked up, a group's progress)
// are in users.go and groups.go.

// q runs the store's queries on the pool.
func (s *Service) q() *store.Queries { return store.New(s.pool) }

// Wave returns a wave.
func (s *Service) Wave(ctx context.Context, id int64) (migration.Wave, error) {
	return s.q().WaveGet(ctx, id)
}

// WaveTimeline returns a wave's events, oldest first.
func (s *Service) WaveTimeline(ctx context.Context, id int64) ([]store.WaveEvent, error) {
	return s.q().WaveEvents(ctx, id)
}

// WaveTally counts a wave's moves by state.
func (s *Service) WaveTally(ctx context.Context, id int64) (store.WaveTally, error) {
	t, err := s.q().WaveTallies(ctx, []int64{id})
	return t[id], err
}

// WaveMoves returns a wave's moves, all or in one state, in plan order.
func (s *Service) WaveMoves(ctx context.Context, id int64, state migration.MoveState) ([]migration.Move, error) {
	return s.q().MoveList(ctx, id, state)
}

// WaveNotifications returns the deliveries of a wave's notifications.
func (s *Service) WaveNotifications(ctx context.Context, id int64) ([]store.Delivery, error) {
	return s.q().WebhookDeliveries(ctx, id)
}

// Group returns a pilot group with its member counts.
func (s *Service) Group(ctx context.Context, id int64) (migration.Group, error) {
	return s.q().GroupGet(ctx, id)
}

// Groups returns every pilot group, newest first.
func (s *Service) Groups(ctx context.Context) ([]migration.Group, error) { return s.q().GroupList(ctx) }

// Members returns a group's members in import order; with waveID > 0, only
// those planned into that wave.
func (s *Service) Members(ctx context.Context, groupID, waveID int64) ([]store.GroupMember, error) {
	return s.q().MemberList(ctx, groupID, waveID)
}

// Failures counts the failed moves of a group, or of one wave (waveID not
// 0), by error code.
func (s *Service) Failures(ctx context.Context, groupID, waveID int64) ([]store.FailureCount, error) {
	return s.q().FailureCounts(ctx, groupID, waveID)
}

// Report returns a line per move of a group, or of one wave (waveID not 0).
func (s *Service) Report(ctx context.Context, groupID, waveID int64) ([]store.ReportRow, error) {
	return s.q().Report(ctx, groupID, waveID)
}

// Settings returns the deployment's settings and how many moves are in
// flight now.
func (s *Service) Settings(ctx context.Context) (store.Settings, int, error) {
	q := s.q()
	st, err := q.SettingsGet(ctx)
	if err != nil {
		return st, 0, err
	}
	held, err := q.LeasesHeld(ctx)
	return st, held, err
}

// Webhooks returns every webhook.
func (s *Service) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	return s.q().WebhookList(ctx)
}

// Tokens returns every API token, newest first, revoked ones too.
func (s *Service) Tokens(ctx context.Context) ([]store.Token, error) { return s.q().TokenList(ctx) }

// Record writes a front end's own entry in the audit log: a change it
// refused before any use case (a role too weak, input it could not read),
// or a change that is no use case's (a dry run), ended with err (nil: it
// was done). After a use case it writes nothing if the use case wrote its
// entry (a.Written), so a front end calls it on every failure.
func (s *Service) Record(ctx context.Context, a Actor, err error) error {
	if a.Written != nil && *a.Written {
		return nil
	}
	outcome, why := Outcome(err)
	if err := s.q().AuditAdd(ctx, store.AuditEntry{Actor: a.Name, Action: string(a.Action), Target: a.Target, Outcome: outcome, Detail: why,
		WaveID: a.WaveID, GroupID: a.GroupID, Subject: a.Subject}); err != nil {
		return err
	}
	a.written()
	return nil
}

// Simulated says which of the shell and Graph are the simulated tenant's,
// as the processes running them said at their start.
func (s *Service) Simulated(ctx context.Context) (store.Simulated, error) {
	st, err := s.q().SettingsGet(ctx)
	return st.Simulated, err
}

// MigrationsPending lists the schema files the database has not had: a
// process whose schema is behind should get no traffic.
func (s *Service) MigrationsPending(ctx context.Context) ([]string, error) {
	return store.MigrationsPending(ctx, s.pool)
}
