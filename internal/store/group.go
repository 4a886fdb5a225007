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
	// Stream yields the members, checked and normalised, one at a time
	// (migration.ReadMembersCSV, migration.CheckMembers). Without it,
	// Members are copied as they are: normalised already.
	Stream  migration.MemberStream
	Members []migration.Member
}

// memberColumns are the columns of group_members an import copies.
var memberColumns = []string{"group_id", "position", "upn", "sip", "display_name"}

// GroupCreate creates a pilot group and its members in one transaction: all of
// them or nothing. The members are copied as the stream yields them, so that
// an import holds one at a time; if the stream then fails, nothing is kept
// and its error is returned. A name in use is an EInvalid error on the name
// field, unless the members have problems, which come first.
func (q *Queries) GroupCreate(ctx context.Context, g NewGroup) (migration.Group, error) {
	src := g.Stream
	if src == nil {
		src = &memberList{members: g.Members}
	}
	var id, n int64
	err := q.inTx(ctx, func(tx *Queries) error {
		var err error
		if id, err = tx.gen.GroupInsert(ctx, dbsqlc.GroupInsertParams{Name: g.Name, Source: g.Source, CreatedBy: g.CreatedBy}); err != nil {
			if violates(err, "pilot_groups_name_key") {
				// As when the members were read before the group was made.
				for src.Next() {
				}
				if err := src.Err(); err != nil {
					return err
				}
			}
			return translate(err)
		}
		n, err = tx.db.CopyFrom(ctx, pgx.Identifier{"group_members"}, memberColumns, &memberRows{group: id, src: src})
		if err := src.Err(); err != nil {
			// The input's fault, which pgx sent Postgres as the reason to
			// abandon the COPY (and returns Postgres's answer to it).
			return err
		}
		if err == nil {
			err = tx.gen.GroupMembersShare(ctx, id)
		}
		switch {
		case violates(err, "group_members_upn_key"):
			return migration.Invalid(migration.CodeInvalidMembers, "upn", "a UPN appears twice in the group%s", twice(g.Members, func(m migration.Member) string { return m.UPN }))
		case violates(err, "group_members_sip_key"):
			return migration.Invalid(migration.CodeInvalidMembers, "sip", "a SIP address appears twice in the group%s", twice(g.Members, func(m migration.Member) string { return m.SIP }))
		}
		return translate(err)
	})
	if err != nil {
		return migration.Group{}, err
	}
	q.AnalyzeAfterBulk(ctx, int(n), "group_members")
	return q.GroupGet(ctx, id)
}

// memberRows is a stream of members as rows of group_members, for
// CopyFrom, which encodes each row before it asks for the next.
type memberRows struct {
	group int64
	src   migration.MemberStream
	pos   int
	row   [5]any
}

func (r *memberRows) Next() bool { return r.src.Next() }
func (r *memberRows) Err() error { return r.src.Err() }

func (r *memberRows) Values() ([]any, error) {
	m := r.src.Member()
	r.pos++
	r.row = [5]any{r.group, r.pos, m.UPN, m.SIP, m.DisplayName}
	return r.row[:], nil
}

// memberList streams a list of members as they are.
type memberList struct {
	members []migration.Member
	next    int
}

func (l *memberList) Next() bool               { l.next++; return l.next <= len(l.members) }
func (l *memberList) Member() migration.Member { return l.members[l.next-1] }
func (l *memberList) Err() error               { return nil }

// twice names the first value of key that appears twice among members,
// as ": a@contoso.com" ("" if none does: members came from a stream).
func twice(members []migration.Member, key func(migration.Member) string) string {
	seen := map[string]bool{}
	for _, m := range members {
		if seen[key(m)] {
			return ": " + key(m)
		}
		seen[key(m)] = true
	}
	return ""
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
