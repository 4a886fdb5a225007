package store

import (
	"context"
	"fmt"
	"slices"
	"time"

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
	// LeaveOut leaves out of the group, once its members are read, those
	// who stand in cutover's moves in other groups: ImportBusy (being moved
	// there), ImportInTeams (in Teams by them).
	LeaveOut []string
}

// What an import can leave out (NewGroup.LeaveOut).
const (
	ImportBusy    = "busy"
	ImportInTeams = "in_teams"
)

// ImportReport is migration.ImportReport: the store reads and writes it.
type ImportReport = migration.ImportReport

// ImportConcern is migration.ImportConcern: the store reads and writes it.
type ImportConcern = migration.ImportConcern

// memberColumns are the columns of group_members an import copies.
var memberColumns = []string{"group_id", "position", "upn", "sip", "display_name"}

// GroupCreate creates a pilot group and its members as GroupCreateChecked
// does, without its report.
func (q *Queries) GroupCreate(ctx context.Context, g NewGroup) (migration.Group, error) {
	created, _, err := q.GroupCreateChecked(ctx, g)
	return created, err
}

// GroupCreateChecked creates a pilot group and its members in one transaction: all of
// them or nothing. The members are copied as the stream yields them, so that
// an import holds one at a time; if the stream then fails, nothing is kept
// and its error is returned. A name in use is an EInvalid error on the name
// field, unless the members have problems, which come first.
//
// It reports which users stand in cutover's moves in other groups (being
// moved there, or in Teams by them), and leaves out of the group those of
// the kinds g.LeaveOut names.
func (q *Queries) GroupCreateChecked(ctx context.Context, g NewGroup) (migration.Group, ImportReport, error) {
	var report ImportReport
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
		if err == nil {
			report, err = tx.importCheck(ctx, id, int(n), g.LeaveOut)
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
		return migration.Group{}, report, err
	}
	q.AnalyzeAfterBulk(ctx, int(n), "group_members")
	created, err := q.GroupGet(ctx, id)
	return created, report, err
}

// importCheck reports which of the n members of a group just imported stand
// in cutover's moves in other groups, and drops those of the kinds leaveOut
// names.
func (q *Queries) importCheck(ctx context.Context, groupID int64, n int, leaveOut []string) (ImportReport, error) {
	r := ImportReport{Users: n, Kept: n, LeftOut: []string{}}
	r.Busy.Says, r.InTeams.Says = []string{}, []string{}
	rows, err := q.gen.GroupImportCheck(ctx, groupID)
	if err != nil {
		return r, err
	}
	var drop []int64
	for _, row := range rows {
		state := migration.MoveState(row.State)
		c, kind := &r.InTeams, ImportInTeams
		says := fmt.Sprintf("%s is %s by %s of %s", nameOfMember(row.UPN, row.DisplayName), migration.OutcomeOf(state).Words(), row.WaveName, row.GroupName)
		if state.Active() {
			c, kind = &r.Busy, ImportBusy
			says = busyWords(row.UPN, row.DisplayName, state, row.WaveName, migration.WaveState(row.WaveState), row.GroupName)
		}
		c.Users++
		if len(c.Says) < migration.MaxProblems {
			c.Says = append(c.Says, says)
		}
		if slices.Contains(leaveOut, kind) {
			drop = append(drop, row.ID)
		}
	}
	for _, k := range leaveOut {
		if k != ImportBusy && k != ImportInTeams {
			return r, migration.Invalid("invalid_leave_out", "leave_out", "%q is not what an import can leave out (%s or %s)", k, ImportBusy, ImportInTeams)
		}
		r.LeftOut = append(r.LeftOut, k)
	}
	if len(drop) == 0 {
		return r, nil
	}
	if len(drop) == n {
		return r, migration.Invalid("invalid_members", "leave_out", "leaving those users out would leave the group empty: every one of its %d users is in cutover's moves elsewhere", n)
	}
	r.Kept -= len(drop)
	return r, q.gen.GroupMembersDrop(ctx, dbsqlc.GroupMembersDropParams{GroupID: groupID, MemberIDs: drop})
}

// nameOfMember names a user for a person: "Ana Lima (ana.lima@contoso.com)".
func nameOfMember(upn, name string) string {
	if name == "" {
		return upn
	}
	return name + " (" + upn + ")"
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

// PlanSaid is a plan as the lead wrote it: its sentence, its settings in
// words, and the request as the API took it (JSON).
type PlanSaid struct {
	Sentence string
	Settings string
	Request  []byte
}

// Plan is a plan a group was planned with, and the waves it made.
type Plan struct {
	PlannedAt time.Time `json:"planned_at"`
	PlannedBy string    `json:"planned_by"`
	Sentence  string    `json:"sentence"`
	Settings  string    `json:"settings"`
	WaveIDs   []int64   `json:"wave_ids"`
}

// GroupPlanAdd keeps the plan that made waves of a group.
func (q *Queries) GroupPlanAdd(ctx context.Context, groupID int64, said PlanSaid, waveIDs []int64, actor string) error {
	req := said.Request
	if len(req) == 0 {
		req = []byte("{}")
	}
	return q.gen.GroupPlanAdd(ctx, dbsqlc.GroupPlanAddParams{GroupID: groupID, PlannedBy: actor, Sentence: said.Sentence,
		Settings: said.Settings, Request: req, WaveIDs: waveIDs})
}

// GroupPlans returns the plans a group was planned with, oldest first.
func (q *Queries) GroupPlans(ctx context.Context, groupID int64) ([]Plan, error) {
	rows, err := q.gen.GroupPlans(ctx, groupID)
	return mapRows(rows, err, func(r dbsqlc.GroupPlansRow) Plan {
		return Plan{PlannedAt: r.PlannedAt, PlannedBy: r.PlannedBy, Sentence: r.Sentence, Settings: r.Settings, WaveIDs: r.WaveIDs}
	})
}
