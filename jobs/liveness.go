package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// liveness is a worker process's heartbeat in Postgres (sql/0009). Every
// Config.Heartbeat it says the process lives and renews the slots it holds;
// and it buries the processes silent for Config.DeadAfter, whose slots are
// freed and whose running moves go back to the queue at once rather than
// after River's rescue. A process cut off from the database stops renewing
// its slots: they expire, and it makes no new move call (see
// store.MoveChange.SlotHolder).
type liveness struct {
	pool *pgxpool.Pool
	cfg  Config
	log  *slog.Logger
	host string

	mu      sync.Mutex
	working map[int64]int // moves whose job runs here now, by jobs running
}

// work notes that a job of this process works a move until done is called:
// only the slots of such moves are renewed. A slot this process failed to
// free for a move it no longer works then expires, rather than being
// renewed for ever.
func (l *liveness) work(moveID int64) (done func()) {
	l.mu.Lock()
	if l.working == nil {
		l.working = map[int64]int{}
	}
	l.working[moveID]++
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.working[moveID]--; l.working[moveID] <= 0 {
			delete(l.working, moveID)
		}
	}
}

// moves lists the moves whose job runs here now.
func (l *liveness) moves() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.working))
	for id := range l.working {
		out = append(out, id)
	}
	return out
}

// run beats until the client stops, then records that the process ended.
func (l *liveness) run(client *river.Client[pgx.Tx]) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-client.Stopped()
		cancel()
	}()
	tick := time.NewTicker(l.cfg.Heartbeat)
	defer tick.Stop()
	var downSince time.Time // the database did not answer the heartbeat since
	var lastErr error
	failed := 0            // heartbeats in a row that did not get through
	var lastBeat time.Time // this process's last heartbeat that got through
	for {
		// A process buries others only once its own heartbeats get
		// through, and gives them the time it was silent itself on top of
		// DeadAfter: one just back from a cut (the database restarted, say)
		// finds every other process as silent as itself and buries none,
		// while one whose heartbeats are merely slow (a loaded machine,
		// a heartbeat waiting for a lock) still finds a dead process a
		// moment after DeadAfter.
		deadAfter := 100 * 365 * 24 * time.Hour
		if !lastBeat.IsZero() {
			deadAfter = l.cfg.DeadAfter() + time.Since(lastBeat)
		}
		lost, err := store.New(l.pool).Heartbeat(ctx, l.cfg.ID, l.host, l.cfg.leaseTTL(), deadAfter, l.moves())
		if err == nil {
			lastBeat = time.Now()
		}
		switch {
		case ctx.Err() != nil:
			end, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := store.New(l.pool).ProcessEnd(end, l.cfg.ID, "stopped"); err != nil {
				l.log.Warn("recording this process's end failed; the others find it dead", "error", err)
			}
			cancel()
			return
		case err != nil:
			if downSince.IsZero() {
				downSince = time.Now()
				l.log.Warn("the heartbeat failed: if it stays silent for "+l.cfg.leaseTTL().String()+", this process's slots go to other processes and it makes no move call on them", "error", err)
			}
			lastErr = err
			failed++
		default:
			// One heartbeat refused (a deadlock, a dropped connection) is
			// no outage the waves need hear of; two in a row are.
			if failed >= 2 {
				l.databaseBack(ctx, downSince, lastErr)
			}
			downSince, failed = time.Time{}, 0
			for _, w := range lost {
				l.buried(ctx, w)
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// buried tells the lead of a worker process found dead: in its log and in
// the metrics. The timeline of each wave it had moves of in flight was told
// by the heartbeat that buried it, in the same statement (sql/0017); the
// pages of those waves are woken to read it.
func (l *liveness) buried(ctx context.Context, w store.LostWorker) {
	silent := time.Since(w.LastHeartbeat).Round(time.Second)
	l.log.Warn("worker process found dead: its slots are free and its moves go to live workers",
		"process", w.ID, "silent_for", silent, "jobs", w.Jobs, "moves_in_flight", len(w.MoveIDs))
	if l.cfg.Interrupted != nil && len(w.MoveIDs) > 0 {
		l.cfg.Interrupted(CauseWorkerLost, len(w.MoveIDs))
	}
	if len(w.MoveIDs) == 0 {
		return
	}
	waves, err := store.New(l.pool).MoveWaves(ctx, w.MoveIDs)
	if err != nil {
		// The pages poll too: they read the change within a few seconds.
		l.log.Warn("waking the pages of a dead worker's waves failed", "process", w.ID, "error", err)
		return
	}
	for wave := range waves {
		l.cfg.Notifier.Touch(wave)
	}
}

// databaseBack tells the running waves that this process could not reach
// the database for a while (their moves here waited, spending no attempt),
// once it can again.
func (l *liveness) databaseBack(ctx context.Context, since time.Time, cause error) {
	down := time.Since(since).Round(time.Second)
	l.log.Info("the database answers again", "down_for", down)
	q := store.New(l.pool)
	waves, err := q.WavesRunning(ctx)
	if err != nil {
		l.log.Warn("telling the waves of the database's outage failed", "error", err)
		return
	}
	for _, w := range waves {
		msg := fmt.Sprintf("worker %s could not reach the database for about %s (%v): its moves waited, no attempt counted", l.cfg.ID, down, cause)
		if _, err := q.WaveEventAdd(ctx, w.ID, migration.WaveEventDatabaseLost, msg, "worker "+l.cfg.ID); err != nil {
			l.log.Warn("telling a wave of the database's outage failed", "wave_id", w.ID, "error", err)
		}
	}
}

// Causes of interruptions: failures that are not the user's, which stop a
// move without spending an attempt (Config.Interrupted).
const (
	CauseDatabase     = "database"
	CauseShellSession = "shell_session"
	CauseWorkerLost   = "worker_lost"
	// CauseStranded: a move that had no job left to run it, given a new
	// one by the sweep (WaveSweepWorker.heal).
	CauseStranded = "stranded"
)
