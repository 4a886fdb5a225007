package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// AuditEntry is one change someone made, or tried to.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	// Detail is the use case's own name of what it did (for a change made
	// through the API), or why a change was refused, in words.
	Detail string `json:"detail,omitempty"`
	// The wave and group the change was to (a wave's is its group's too),
	// and the user it was about.
	WaveID    *int64 `json:"wave_id,omitempty"`
	GroupID   *int64 `json:"group_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	WaveName  string `json:"wave_name,omitempty"`
}

// AuditAdd records a change.
func (q *Queries) AuditAdd(ctx context.Context, e AuditEntry) error {
	return q.gen.AuditAdd(ctx, dbsqlc.AuditAddParams{Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail,
		WaveID: e.WaveID, GroupID: e.GroupID, Subject: e.Subject})
}

// AuditFilter chooses entries of the audit log.
type AuditFilter struct {
	// Before is the entry to page on from (0: the newest); Limit how many.
	Before int64
	Limit  int
	// Actor, Actions (any of them), GroupID, and the time from Since until
	// Until keep the entries that match; each is off when empty or zero.
	Actor        string
	Actions      []string
	GroupID      int64
	Since, Until *time.Time
}

// AuditList returns the newest entries f chooses, with the names of their
// group and wave.
func (q *Queries) AuditList(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	rows, err := q.gen.AuditList(ctx, dbsqlc.AuditListParams{Before: f.Before, Actor: f.Actor, Actions: f.Actions, GroupID: f.GroupID,
		Since: f.Since, Until: f.Until, MaxEntries: f.Limit})
	return mapRows(rows, err, func(r dbsqlc.AuditListRow) AuditEntry { return AuditEntry(r) })
}

// AuditActors returns everyone in the audit log.
func (q *Queries) AuditActors(ctx context.Context) ([]string, error) { return q.gen.AuditActors(ctx) }
