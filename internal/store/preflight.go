package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
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
	_, err := q.db.Exec(ctx, `
		INSERT INTO preflight_results (member_id, checked_at, status, checks)
		SELECT r.member_id, $2, r.status, r.checks::jsonb
		FROM unnest($1::bigint[], $3::text[], $4::text[]) AS r(member_id, status, checks)
		ON CONFLICT (member_id) DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status, checks = excluded.checks`,
		memberIDs, at, statuses, docs)
	return err
}

// PreflightGet returns a member's latest pre-flight result, or nil if the
// member was never checked.
func (q *Queries) PreflightGet(ctx context.Context, memberID int64) (*Preflight, error) {
	rows, _ := q.db.Query(ctx, preflightSQL("$1"), memberID)
	return optional(pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByPos[Preflight]))
}

// preflightSQL reads the last pre-flight of the member whose ID is the
// expression memberID.
func preflightSQL(memberID string) string {
	return `SELECT checked_at, status, checks FROM preflight_results WHERE member_id = ` + memberID
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
	rows, err := q.db.Query(ctx, `
		SELECT gm.id, gm.upn, gm.sip, gm.display_name, gm.enterprise_voice, coalesce(gm.line_uri, '') FROM group_members gm
		WHERE gm.group_id = $1
		  AND ($2 = 0 OR EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id AND m.wave_id = $2))
		ORDER BY gm.position`, groupID, waveID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (GroupMember, error) {
		var m GroupMember
		var ev *bool
		var line string
		err := row.Scan(&m.ID, &m.UPN, &m.SIP, &m.DisplayName, &ev, &line)
		if ev != nil {
			m.Voice = &migration.ShellUser{Identity: m.UPN, EnterpriseVoiceEnabled: *ev, LineURI: line}
		}
		return m, err
	})
}

// MembersVoiceUnread returns up to limit members whose Enterprise Voice
// settings no worker has read yet, and whose move has not started (once it
// has, the move reads them itself).
func (q *Queries) MembersVoiceUnread(ctx context.Context, limit int) ([]GroupMember, error) {
	rows, _ := q.db.Query(ctx, `
		SELECT gm.id, gm.upn, gm.sip FROM group_members gm
		WHERE gm.voice_read_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id AND m.state <> 'pending')
		ORDER BY gm.id LIMIT $1`, limit)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (GroupMember, error) {
		var m GroupMember
		err := row.Scan(&m.ID, &m.UPN, &m.SIP)
		return m, err
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
	_, err := q.db.Exec(ctx, `
		UPDATE group_members gm SET enterprise_voice = v.ev, line_uri = nullif(v.line, ''), voice_read_at = now()
		FROM unnest($1::bigint[], $2::boolean[], $3::text[]) AS v(id, ev, line)
		WHERE gm.id = v.id`, ids, ev, lines)
	return err
}

// UsersToMove counts the members of every pilot group whose latest move has
// not moved them (or found them online already).
func (q *Queries) UsersToMove(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `
		SELECT count(DISTINCT gm.upn) FROM group_members gm
		WHERE NOT EXISTS (SELECT 1 FROM moves m WHERE m.upn = gm.upn AND m.state IN ('moved', 'skipped'))`).Scan(&n)
	return n, err
}
