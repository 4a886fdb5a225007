package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// AuditEntry is one change someone made.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// AuditAdd records a change.
func (q *Queries) AuditAdd(ctx context.Context, e AuditEntry) error {
	return q.gen.AuditAdd(ctx, dbsqlc.AuditAddParams{Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail})
}

// AuditList returns the newest entries, at most limit, before the entry
// with ID before (0: from the newest).
func (q *Queries) AuditList(ctx context.Context, limit int, before int64) ([]AuditEntry, error) {
	rows, err := q.gen.AuditList(ctx, dbsqlc.AuditListParams{Before: before, MaxEntries: limit})
	return mapRows(rows, err, func(r dbsqlc.AuditLog) AuditEntry { return AuditEntry(r) })
}
