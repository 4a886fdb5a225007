package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// The floors: minimal programs that do the same writes as cutover, on
// cutover's schema (or, for the wave, on a table of their own) and with
// cutover's promises, and nothing else. What cutover takes beyond a floor
// is its own cost; what the floor takes is the schema's and Postgres's.

var (
	sqlFloorGroup           = statement("floor_group")
	sqlFloorWave            = statement("floor_wave")
	sqlEnqueueFloorBatch    = statement("enqueue_floor_batch")
	sqlEnqueueFloorPlan     = statement("enqueue_floor_plan")
	sqlEnqueueFloorQueue    = statement("enqueue_floor_queue")
	sqlEnqueueFloorMoveRuns = statement("enqueue_floor_move_runs")
)

// enqueueFloor writes the rows an import, a plan and a wave's start of n
// users keep, as a minimal pgx program would on cutover's schema: the
// members by COPY, the moves by one INSERT from the members, their change to
// queued by one UPDATE, and their jobs by River's InsertManyFast. Nothing is
// checked, logged or audited, and no HTTP is spoken: what cutover does
// beyond this is its own cost, and what this costs is the schema's.
func (b *bencher) enqueueFloor(ctx context.Context, n int) (time.Duration, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	// Insert only: the move jobs' kind need not be worked here.
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: b.log, SkipUnknownJobCheck: true})
	if err != nil {
		return 0, err
	}
	b.p.startPhase("floor: the same rows written by a minimal pgx program, %d users", n)
	defer b.p.endPhase()
	return timed(func() error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var group, wave, batch int64
			if err := tx.QueryRow(ctx, sqlFloorGroup).Scan(&group); err != nil {
				return err
			}
			// pgx's CopyFrom, as the import's own: binary COPY, no SQL text.
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"group_members"}, floorMemberColumns, floorMembers(group, n)); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, sqlFloorWave, group, n, 10).Scan(&wave); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, sqlEnqueueFloorBatch, wave).Scan(&batch); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sqlEnqueueFloorPlan, wave, batch, group); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sqlEnqueueFloorQueue, wave, batch); err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, sqlEnqueueFloorMoveRuns, wave)
			params := make([]river.InsertManyParams, 0, n)
			var id int64
			var run int
			if _, err := pgx.ForEachRow(rows, []any{&id, &run}, func() error {
				params = append(params, river.InsertManyParams{Args: jobs.MoveArgs{MoveID: id, Run: run}, InsertOpts: &river.InsertOpts{MaxAttempts: 1}})
				return nil
			}); err != nil {
				return err
			}
			_, err := client.InsertManyFastTx(ctx, tx, params)
			return err
		})
	})
}

// floorMemberColumns are the columns of group_members the enqueue floor
// copies, as the import does.
var floorMemberColumns = []string{"group_id", "position", "upn", "sip", "display_name"}

// floorMembers are n members of group for enqueueFloor's COPY, in the
// order of floorMemberColumns.
func floorMembers(group int64, n int) pgx.CopyFromSource {
	return pgx.CopyFromFunc(func() func() ([]any, error) {
		i := 0
		return func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			addr := fmt.Sprintf("f%07d@contoso.com", i)
			return []any{group, i, addr, addr, fmt.Sprintf("User %d", i)}, nil
		}
	}())
}

// timeFloorJobs runs a floor's jobs: it starts a River client working ws
// on the moves queue with workers, and times the insertion of params and
// their work, until done counts them all. The phase ends with it.
func (b *bencher) timeFloorJobs(ctx context.Context, pool *pgxpool.Pool, ws *river.Workers, workers int, params []river.InsertManyParams, done *atomic.Int64) (time.Duration, error) {
	defer b.p.endPhase()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: ws, Logger: b.log,
		FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 50 * time.Millisecond,
		Queues: map[string]river.QueueConfig{jobs.QueueMoves: {MaxWorkers: workers}}})
	if err != nil {
		return 0, err
	}
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	return timed(func() error {
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return err
		}
		return waitFor(ctx, 5*time.Millisecond, func() (bool, error) {
			m := int(done.Load())
			b.p.count(m, len(params), "moves done")
			return m >= len(params), nil
		})
	})
}

// floorStepsArgs is a move of the moves/s floor.
type floorStepsArgs struct {
	MoveID int64 `json:"move_id"`
	WaveID int64 `json:"wave_id"`
}

func (floorStepsArgs) Kind() string { return "bench_floor_steps" }

// floorStepsWorker writes a move's changes as cutover does, and nothing else.
type floorStepsWorker struct {
	river.WorkerDefaults[floorStepsArgs]
	pool *pgxpool.Pool
	done func()
}

// The moves/s floor's statements: a change of state with its event; the
// slot taken with the first (without waiting for the disk, as cutover takes
// it), the rollback record kept with the change to moving, the slot freed
// with the outcome.
var (
	sqlThroughputFloorPreflight = statement("throughput_floor_preflight")
	sqlThroughputFloorMoving    = statement("throughput_floor_moving")
	sqlThroughputFloorChange    = statement("throughput_floor_change")
	sqlThroughputFloorRelease   = statement("throughput_floor_release")
)

func (w *floorStepsWorker) Work(ctx context.Context, job *river.Job[floorStepsArgs]) error {
	id := job.Args.MoveID
	for {
		tag, err := w.pool.Exec(ctx, sqlThroughputFloorPreflight, id, job.Args.WaveID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			break
		}
		time.Sleep(time.Millisecond) // no slot free
	}
	if _, err := w.pool.Exec(ctx, sqlThroughputFloorMoving, id); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(sqlThroughputFloorChange, id, "verifying")
	b.Queue(sqlThroughputFloorChange, id, "moved")
	b.Queue(sqlThroughputFloorRelease, id)
	if err := w.pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	w.done()
	return nil
}

var (
	sqlThroughputFloorMembers = statement("throughput_floor_members")
	sqlThroughputFloorMoves   = statement("throughput_floor_moves")
	sqlThroughputFloorCap     = statement("throughput_floor_cap")
	sqlThroughputFloorMoveIDs = statement("throughput_floor_move_ids")
)

// movesFloor is the moves/s of a minimal pgx program that writes, on
// cutover's schema, what cutover writes for a move with an instant shell
// (floorStepsWorker), with River jobs and as many workers.
func (b *bencher) movesFloor(ctx context.Context, n, workers int) (float64, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	b.p.startPhase("setup: %d queued moves on cutover's schema", n)
	var wave int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var group int64
		if err := tx.QueryRow(ctx, sqlFloorGroup).Scan(&group); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlThroughputFloorMembers, group, n); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, sqlFloorWave, group, n, workers).Scan(&wave); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlThroughputFloorMoves, wave, group); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlThroughputFloorCap, workers)
		return err
	})
	if err != nil {
		return 0, err
	}
	store.New(pool).AnalyzeAfterBulk(ctx, n, "group_members", "moves") // as a plan does
	var ids []int64
	rows, _ := pool.Query(ctx, sqlThroughputFloorMoveIDs, wave)
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return 0, err
	}
	var moved atomic.Int64
	ws := river.NewWorkers()
	river.AddWorker(ws, &floorStepsWorker{pool: pool, done: func() { moved.Add(1) }})
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: floorStepsArgs{MoveID: id, WaveID: wave}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	b.p.startPhase("floor: the same writes by a minimal pgx program, %d moves, %d workers", n, workers)
	took, err := b.timeFloorJobs(ctx, pool, ws, workers, params, &moved)
	if err != nil {
		return 0, err
	}
	return float64(n) / took.Seconds(), nil
}

// floorMoveArgs is a move of the wave's floor.
type floorMoveArgs struct {
	ID  int64  `json:"id"`
	UPN string `json:"upn"`
}

func (floorMoveArgs) Kind() string { return "bench_floor_move" }

// floorMoveWorker makes a move of the wave's floor: a slot of the cap, the
// durable record before the call, the call, the outcome.
type floorMoveWorker struct {
	river.WorkerDefaults[floorMoveArgs]
	pool  *pgxpool.Pool
	shell *sim.Shell
	slots chan struct{}
	done  func()
}

var (
	sqlWaveFloorTable  = statement("wave_floor_table")
	sqlWaveFloorFill   = statement("wave_floor_fill")
	sqlWaveFloorMoving = statement("wave_floor_moving")
	sqlWaveFloorMoved  = statement("wave_floor_moved")
)

func (w *floorMoveWorker) Work(ctx context.Context, job *river.Job[floorMoveArgs]) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.slots }()
	if _, err := w.pool.Exec(ctx, sqlWaveFloorMoving, job.Args.ID, `{"registrar_pool":"pool01.contoso.com"}`); err != nil {
		return err
	}
	if err := w.shell.MoveOnline(ctx, job.Args.UPN, migration.MoveOnlineOptions{}); err != nil {
		return err
	}
	if _, err := w.pool.Exec(ctx, sqlWaveFloorMoved, job.Args.ID); err != nil {
		return err
	}
	w.done()
	return nil
}

// waveFloor times the wave of n users as a minimal program makes it with
// cutover's promises and nothing else: River jobs worked by workers, at
// most c move calls at once (a semaphore in process, handed on at once),
// the move's record on disk before its call (one durable UPDATE) and its
// outcome after (another), and the same simulated Move-CsUser. No
// pre-flight, timeline, rollback table, cross-process cap, wave or pages:
// what cutover takes beyond this is its own.
func (b *bencher) waveFloor(ctx context.Context, n, c, workers int, shellCfg sim.ShellConfig) (waveRun, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return waveRun{}, err
	}
	defer done()
	if _, err := pool.Exec(ctx, sqlWaveFloorTable); err != nil {
		return waveRun{}, err
	}
	if _, err := pool.Exec(ctx, sqlWaveFloorFill, n); err != nil {
		return waveRun{}, err
	}
	var moved atomic.Int64
	shell := sim.NewShell(shellCfg)
	ws := river.NewWorkers()
	river.AddWorker(ws, &floorMoveWorker{pool: pool, shell: shell, slots: make(chan struct{}, c), done: func() { moved.Add(1) }})
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: floorMoveArgs{ID: int64(i + 1), UPN: fmt.Sprintf("b%07d@contoso.com", i)},
			InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	b.p.startPhase("floor: the same wave by a minimal program, %d users, cap %d, %d workers", n, c, workers)
	took, err := b.timeFloorJobs(ctx, pool, ws, workers, params, &moved)
	if err != nil {
		return waveRun{}, err
	}
	return waveRun{took: took, perSecond: float64(n) / took.Seconds(), meanInFlight: shell.Stats().MeanInFlight}, nil
}
