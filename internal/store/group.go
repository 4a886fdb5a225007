package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// NewGroup is a pilot group to create.
type NewGroup struct {
	Name      string
	Source    string
	CreatedBy string
	Members   []migration.Member
}

// GroupCreate creates a pilot group and its members in one transaction: all of
// them or nothing. A name in use is an EInvalid error on the name field.
func (q *Queries) GroupCreate(ctx context.Context, g NewGroup) (migration.Group, error) {
	var id int64
	err := q.inTx(ctx, func(tx *Queries) error {
		var err error
		if id, err = tx.gen.GroupInsert(ctx, dbsqlc.GroupInsertParams{Name: g.Name, Source: g.Source, CreatedBy: g.CreatedBy}); err != nil {
			return translate(err)
		}
		// Row by row from the members, not a copy of them all as rows:
		// a 100,000-user import would hold both at once.
		_, err = tx.db.CopyFrom(ctx, pgx.Identifier{"group_members"},
			[]string{"group_id", "position", "upn", "sip", "display_name"},
			pgx.CopyFromSlice(len(g.Members), func(i int) ([]any, error) {
				m := g.Members[i]
				return []any{id, i + 1, m.UPN, m.SIP, m.DisplayName}, nil
			}))
		return translate(err)
	})
	if err != nil {
		return migration.Group{}, err
	}
	q.AnalyzeAfterBulk(ctx, len(g.Members), "group_members")
	return q.GroupGet(ctx, id)
}

// GroupGet returns a pilot group with its member counts.
func (q *Queries) GroupGet(ctx context.Context, id int64) (migration.Group, error) {
	r, err := q.gen.GroupGet(ctx, id)
	return migration.Group(r), notFound(err, "pilot group %d does not exist", id)
}

// GroupList returns every pilot group, newest first.
func (q *Queries) GroupList(ctx context.Context) ([]migration.Group, error) {
	rows, err := q.gen.GroupList(ctx)
	return mapRows(rows, err, func(r dbsqlc.GroupDetail) migration.Group { return migration.Group(r) })
}

// GroupName returns a pilot group's name.
func (q *Queries) GroupName(ctx context.Context, id int64) (string, error) {
	name, err := q.gen.GroupName(ctx, id)
	return name, notFound(err, "pilot group %d does not exist", id)
}

// SIPDomains returns the domains of the SIP addresses of every pilot group's
// members.
func (q *Queries) SIPDomains(ctx context.Context) ([]string, error) {
	return q.gen.SIPDomains(ctx)
}
