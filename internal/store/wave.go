package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// PlanFunc makes the waves of a plan once the number of members left to plan
// and the number of the next wave are known.
type PlanFunc func(unplanned, nextNumber int) ([]migration.WaveSpec, error)

// WavesCreate plans the members of a group not yet in a wave into new waves,
// in import order, with a pending move per member; each wave's moves share
// one "planned" entry of their timelines. The group is locked while it
// plans, so two plans of one group do not race. A member with an active move
// in another group makes the plan an EConflict error naming them. Nothing
// per member passes through this process: the database assigns them.
func (q *Queries) WavesCreate(ctx context.Context, groupID int64, actor string, plan PlanFunc) ([]migration.Wave, error) {
	var waves []migration.Wave
	err := q.inTx(ctx, func(tx *Queries) error {
		name, err := tx.gen.GroupLock(ctx, groupID)
		if err != nil {
			return notFound(err, "pilot group %d does not exist", groupID)
		}
		unplanned, err := tx.gen.WaveMembersUnplanned(ctx, groupID)
		if err != nil {
			return err
		}
		if unplanned == 0 {
			return migration.Errorf(migration.EConflict, "already_planned", "every member of pilot group %q is in a wave already", name)
		}
		next, err := tx.gen.WaveNextNumber(ctx, groupID)
		if err != nil {
			return err
		}
		specs, err := plan(int(unplanned), next)
		if err != nil {
			return err
		}
		if err := tx.busyUsers(ctx, groupID); err != nil {
			return err
		}
		waveIDs := make([]int64, 0, len(specs))
		upTo := make([]int, 0, len(specs))
		total := 0
		for i, spec := range specs {
			var w migration.Wave
			if w, err = tx.waveInsert(ctx, groupID, next+i, spec, nil); err != nil {
				return err
			}
			waves = append(waves, w)
			total += spec.Size
			waveIDs, upTo = append(waveIDs, w.ID), append(upTo, total)
		}
		return translate(tx.gen.MovesPlanGroup(ctx, dbsqlc.MovesPlanGroupParams{GroupID: groupID, WaveIDs: waveIDs, UpTo: upTo, Actor: actor}))
	})
	return waves, err
}

// waveInsert adds a wave to a group.
func (q *Queries) waveInsert(ctx context.Context, groupID int64, number int, spec migration.WaveSpec, retryOf *int64) (migration.Wave, error) {
	c := spec.Controls
	return waveOrErr(q.gen.WaveInsert(ctx, dbsqlc.WaveInsertParams{
		GroupID: groupID, Number: number, Name: spec.Name, Size: spec.Size, StartAt: spec.StartAt,
		MaxAttempts: spec.MaxAttempts, Concurrency: spec.Concurrency,
		ThresholdPercent: c.Threshold.Percent, ThresholdCount: c.Threshold.Count, MinSample: max(c.Threshold.MinSample, 1),
		RollbackOnHalt: c.RollbackOnHalt, Windows: c.Windows, TimeZone: c.TimeZone, BlackoutDates: c.BlackoutDates,
		RetryOf: retryOf, BypassEnterpriseVoiceCheck: c.BypassEnterpriseVoiceCheck, NumberPlan: string(c.NumberPlan),
	}))
}

// busyUsers returns an EConflict error naming the members of a group not
// yet in a wave (up to migration.MaxProblems) that have an active move.
func (q *Queries) busyUsers(ctx context.Context, groupID int64) error {
	busy, err := q.gen.GroupUsersBusy(ctx, dbsqlc.GroupUsersBusyParams{GroupID: groupID, MaxUsers: migration.MaxProblems})
	if err != nil || len(busy) == 0 {
		return err
	}
	var says []string
	for _, b := range busy {
		says = append(says, busyWords(b.UPN, b.DisplayName, migration.MoveState(b.BusyState), b.BusyWave, migration.WaveState(b.BusyWaveState), b.BusyGroup))
	}
	e := migration.Errorf(migration.EConflict, "user_busy",
		"%s of this group cannot be planned while in another wave: %s", usersWord(len(busy)), strings.Join(says[:min(3, len(says))], "; "))
	for _, b := range says {
		e.Details = append(e.Details, migration.Problem{Field: "members", Message: b})
	}
	return e
}

// WaveGet returns a wave.
func (q *Queries) WaveGet(ctx context.Context, id int64) (migration.Wave, error) {
	r, err := q.gen.WaveGet(ctx, id)
	return waveOf(r), notFound(err, "wave %d does not exist", id)
}

// WaveList returns the waves of a group in order.
func (q *Queries) WaveList(ctx context.Context, groupID int64) ([]migration.Wave, error) {
	return wavesOf(q.gen.WaveList(ctx, groupID))
}

// WaveTally counts a wave's moves by state, those that needed more than
// one attempt, and by state those a later move of the same user in the
// group supersedes (a retry wave's, say).
type WaveTally struct {
	Counts     map[migration.MoveState]int
	Retried    int
	Superseded map[migration.MoveState]int
}

// WaveTallies returns the tally of each wave.
func (q *Queries) WaveTallies(ctx context.Context, waveIDs []int64) (map[int64]WaveTally, error) {
	rows, err := q.gen.WaveTallies(ctx, waveIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]WaveTally, len(waveIDs))
	for _, r := range rows {
		t := out[r.WaveID]
		if t.Counts == nil {
			t.Counts, t.Superseded = map[migration.MoveState]int{}, map[migration.MoveState]int{}
		}
		t.Counts[migration.MoveState(r.State)] = r.Moves
		if r.Superseded > 0 {
			t.Superseded[migration.MoveState(r.State)] = r.Superseded
		}
		t.Retried += r.Retried
		out[r.WaveID] = t
	}
	return out, nil
}

// GroupCounted sums the tallies of a group's waves into the counts of
// its members in a wave, each once: every move less those a later move of
// the same member supersedes.
func GroupCounted(tallies map[int64]WaveTally) (inGroup map[migration.MoveState]int, retried int) {
	inGroup = map[migration.MoveState]int{}
	for _, t := range tallies {
		for s, n := range t.Counts {
			inGroup[s] += n - t.Superseded[s]
		}
		retried += t.Retried
	}
	return inGroup, retried
}

// GroupCount counts a group's members, each once, by where they stand.
type GroupCount struct {
	// Counts are the members by the state of their move in the group that
	// no later one supersedes (migration.StateUnplanned for those in no
	// wave), except members whose UPN is in another group too, counted
	// by where they stand across every group.
	Counts  map[migration.MoveState]int
	Retried int // members whose move needed more than one attempt
	// Elsewhere is how many members stand where another group's move put
	// them since (rolled back there, say), not where this group left them.
	Elsewhere int
}

// GroupCount counts the members of g, each once, by where they stand.
// inGroup counts the members in a wave by the state of their move in the
// group that no later one supersedes: the sum over the group's waves of
// their WaveTally, less what is superseded (GroupCounted).
func (q *Queries) GroupCount(ctx context.Context, g migration.Group, inGroup map[migration.MoveState]int, retried int) (GroupCount, error) {
	groupID := g.ID
	c := GroupCount{Counts: map[migration.MoveState]int{migration.StateUnplanned: g.Unplanned, migration.StateLeftOut: g.LeftOut}, Retried: retried}
	for s, n := range inGroup {
		c.Counts[s] += n
	}
	shared, err := q.gen.GroupShared(ctx, groupID)
	if err != nil {
		return c, err
	}
	for _, r := range shared {
		if r.InGroup == r.Standing {
			continue
		}
		c.Counts[migration.MoveState(r.InGroup)]--
		c.Counts[migration.MoveState(r.Standing)]++
		c.Elsewhere++
	}
	for s, n := range c.Counts {
		if n <= 0 {
			delete(c.Counts, s)
		}
	}
	return c, nil
}

// QueuedMove is a move queued for a worker, with the run its job belongs to.
type QueuedMove struct {
	MoveID int64
	Run    int
}

// WaveStart sets a scheduled wave running and queues its pending moves,
// which share one "queued" entry of their timelines, and returns how many it
// queued; the caller enqueues their jobs in the same transaction
// (MovesQueued). A wave that is not scheduled (started already, or
// cancelled) is left alone: started is false.
func (q *Queries) WaveStart(ctx context.Context, waveID int64, actor string) (w migration.Wave, queued int, started bool, err error) {
	r, err := q.gen.WaveStart(ctx, dbsqlc.WaveStartParams{WaveID: waveID, FromStates: names(migration.WaveStart.From), ToState: string(migration.WaveStart.To)})
	if errors.Is(err, pgx.ErrNoRows) {
		return w, 0, false, nil
	}
	if err != nil {
		return w, 0, false, err
	}
	w = waveOf(r)
	batch, err := q.gen.MoveBatchAdd(ctx, dbsqlc.MoveBatchAddParams{WaveID: waveID, State: string(migration.MoveStateQueued),
		Message: fmt.Sprintf("%s started; waiting for a worker", w.Name), Actor: actor})
	if err != nil {
		return w, 0, false, err
	}
	n, err := q.gen.MovesQueue(ctx, dbsqlc.MovesQueueParams{WaveID: waveID, BatchID: batch})
	return w, int(n), true, err
}

// MovesQueued hands a wave's queued moves to fn, in chunks of up to size,
// read through a cursor so that a wave of any size is never in memory at
// once. It must run in a transaction (the cursor lives as long as it).
func (q *Queries) MovesQueued(ctx context.Context, waveID int64, size int, fn func([]QueuedMove) error) error {
	const cursor = "cutover_moves_queued"
	list, args := recorded(func(g *dbsqlc.Queries) { g.MovesQueuedList(ctx, waveID) })
	if _, err := q.db.Exec(ctx, "DECLARE "+cursor+" NO SCROLL CURSOR FOR "+list, args...); err != nil {
		return err
	}
	fetch := fmt.Sprintf("FETCH %d FROM %s", size, cursor)
	for {
		rows, err := q.db.Query(ctx, fetch)
		if err != nil {
			return err
		}
		chunk, err := pgx.CollectRows(rows, pgx.RowToStructByPos[QueuedMove])
		if err != nil {
			return err
		}
		if len(chunk) == 0 {
			break
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	_, err := q.db.Exec(ctx, "CLOSE "+cursor)
	return err
}

// queuedOf is the moves a query queued.
func queuedOf[R ~struct {
	MoveID int64
	Run    int
}](rows []R, err error) ([]QueuedMove, error) {
	return mapRows(rows, err, func(r R) QueuedMove { return QueuedMove(r) })
}
