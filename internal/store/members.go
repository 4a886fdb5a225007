package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Preflight is the latest pre-flight result of a group member.
type Preflight struct {
	CheckedAt time.Time             `json:"checked_at"`
	Status    migration.CheckStatus `json:"status"`
	Checks    []migration.Check     `json:"checks"`
}

// PreflightSave records a member's pre-flight result, replacing the last.
func (q *Queries) PreflightSave(ctx context.Context, memberID int64, checks []migration.Check, at time.Time) error {
	return q.PreflightSaveMany(ctx, []int64{memberID}, [][]migration.Check{checks}, at)
}

// PreflightSaveMany records the pre-flight results of many members at once
// (checks[i] belongs to memberIDs[i]), replacing their last.
func (q *Queries) PreflightSaveMany(ctx context.Context, memberIDs []int64, checks [][]migration.Check, at time.Time) error {
	statuses := make([]migration.CheckStatus, len(checks))
	docs := make([]string, len(checks))
	for i, c := range checks {
		statuses[i] = migration.Worst(c)
		doc, err := json.Marshal(c)
		if err != nil {
			return err
		}
		docs[i] = string(doc)
	}
	return q.gen.PreflightSave(ctx, dbsqlc.PreflightSaveParams{MemberIDs: memberIDs, CheckedAt: at, Statuses: names(statuses), Checks: docs})
}

// PreflightGet returns a member's latest pre-flight result, or nil if the
// member was never checked.
func (q *Queries) PreflightGet(ctx context.Context, memberID int64) (*Preflight, error) {
	r, err := q.gen.PreflightGet(ctx, memberID)
	return optional(preflightOf(r), err)
}

// preflightOf is the store's pre-flight of a row.
func preflightOf(r dbsqlc.PreflightGetRow) *Preflight {
	return &Preflight{CheckedAt: r.CheckedAt, Status: migration.CheckStatus(r.Status), Checks: r.Checks}
}

// GroupMember is a member of a pilot group, with its ID.
type GroupMember struct {
	ID int64
	migration.Member
	// Voice is the member's Enterprise Voice settings on premises, nil
	// until a worker has read them.
	Voice *migration.ShellUser
}

// MemberList returns a group's members in import order; with waveID > 0,
// only those planned into that wave.
func (q *Queries) MemberList(ctx context.Context, groupID, waveID int64) ([]GroupMember, error) {
	rows, err := q.gen.MemberList(ctx, dbsqlc.MemberListParams{GroupID: groupID, WaveID: waveID})
	return mapRows(rows, err, func(r dbsqlc.MemberListRow) GroupMember {
		m := GroupMember{ID: r.ID, Member: migration.Member{UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName}}
		if r.EnterpriseVoice != nil {
			m.Voice = &migration.ShellUser{Identity: r.UPN, EnterpriseVoiceEnabled: *r.EnterpriseVoice, LineURI: r.LineURI}
		}
		return m
	})
}

// MembersVoiceUnread returns up to limit members whose Enterprise Voice
// settings no worker has read yet, and whose move has not started (once it
// has, the move reads them itself).
func (q *Queries) MembersVoiceUnread(ctx context.Context, limit int) ([]GroupMember, error) {
	rows, err := q.gen.MembersVoiceUnread(ctx, limit)
	return mapRows(rows, err, func(r dbsqlc.MembersVoiceUnreadRow) GroupMember {
		return GroupMember{ID: r.ID, Member: migration.Member{UPN: r.UPN, SIP: r.SIP}}
	})
}

// MembersVoiceSave records members' Enterprise Voice settings (those not in
// voice are not voice users).
func (q *Queries) MembersVoiceSave(ctx context.Context, members []GroupMember, voice map[string]migration.ShellUser) error {
	ids := make([]int64, len(members))
	ev := make([]bool, len(members))
	lines := make([]string, len(members))
	for i, m := range members {
		u, ok := voice[m.UPN]
		ids[i], ev[i], lines[i] = m.ID, ok && u.EnterpriseVoiceEnabled, u.LineURI
	}
	return q.gen.MembersVoiceSave(ctx, dbsqlc.MembersVoiceSaveParams{IDs: ids, Voice: ev, LineURIs: lines})
}

// UsersToMove counts the members of every pilot group whose latest move has
// not moved them (or found them online already).
func (q *Queries) UsersToMove(ctx context.Context) (int, error) {
	n, err := q.gen.UsersToMove(ctx)
	return int(n), err
}
