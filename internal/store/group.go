package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
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
		err := tx.db.QueryRow(ctx,
			`INSERT INTO pilot_groups (name, source, created_by) VALUES ($1, $2, $3) RETURNING id`,
			g.Name, g.Source, g.CreatedBy).Scan(&id)
		if err != nil {
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

const groupSelect = `
SELECT g.id, g.name, g.source, g.created_by, g.created_at,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id)::int AS members,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id
          AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id))::int AS unplanned
FROM pilot_groups g`

// GroupGet returns a pilot group with its member counts.
func (q *Queries) GroupGet(ctx context.Context, id int64) (migration.Group, error) {
	rows, _ := q.db.Query(ctx, groupSelect+` WHERE g.id = $1`, id)
	g, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[migration.Group])
	if err != nil {
		return g, notFound(err, "pilot group %d does not exist", id)
	}
	return g, nil
}

// GroupList returns every pilot group, newest first.
func (q *Queries) GroupList(ctx context.Context) ([]migration.Group, error) {
	rows, _ := q.db.Query(ctx, groupSelect+` ORDER BY g.id DESC`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[migration.Group])
}

// GroupName returns a pilot group's name.
func (q *Queries) GroupName(ctx context.Context, id int64) (string, error) {
	var name string
	err := q.db.QueryRow(ctx, `SELECT name FROM pilot_groups WHERE id = $1`, id).Scan(&name)
	return name, notFound(err, "pilot group %d does not exist", id)
}

// SIPDomains returns the domains of the SIP addresses of every pilot group's
// members.
func (q *Queries) SIPDomains(ctx context.Context) ([]string, error) {
	rows, _ := q.db.Query(ctx, `SELECT DISTINCT split_part(sip, '@', 2) FROM group_members ORDER BY 1`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
