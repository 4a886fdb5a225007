package store

import (
	"context"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// AuditEntry is migration.AuditEntry: the store reads and writes it.
type AuditEntry = migration.AuditEntry

// AuditAdd records a change.
func (q *Queries) AuditAdd(ctx context.Context, e AuditEntry) error {
	return q.gen.AuditAdd(ctx, dbsqlc.AuditAddParams{Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail,
		WaveID: e.WaveID, GroupID: e.GroupID, Subject: e.Subject})
}

// AuditFilter is migration.AuditFilter: the store reads and writes it.
type AuditFilter = migration.AuditFilter

// AuditList returns the newest entries f chooses, with the names of their
// group and wave.
func (q *Queries) AuditList(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	rows, err := q.gen.AuditList(ctx, dbsqlc.AuditListParams{Before: f.Before, Actor: f.Actor, Actions: f.Actions, GroupID: f.GroupID,
		Since: f.Since, Until: f.Until, MaxEntries: f.Limit})
	return mapRows(rows, err, func(r dbsqlc.AuditListRow) AuditEntry { return AuditEntry(r) })
}

// AuditActors returns everyone in the audit log.
func (q *Queries) AuditActors(ctx context.Context) ([]string, error) { return q.gen.AuditActors(ctx) }
