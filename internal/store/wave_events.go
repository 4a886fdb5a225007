package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// WaveEvent is one entry in a wave's timeline.
type WaveEvent struct {
	ID      int64     `json:"-"`
	WaveID  int64     `json:"-"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Actor   string    `json:"actor"`
}

// Kinds of wave event. Those a webhook hears of are marked.
const (
	WaveEventStarted      = migration.WaveEventStarted // notified
	WaveEventWaiting      = "waiting_for_window"
	WaveEventPaused       = migration.WaveEventPaused
	WaveEventResumed      = migration.WaveEventResumed
	WaveEventHalted       = migration.WaveEventHalted // notified
	WaveEventBlocked      = migration.WaveEventBlocked
	WaveEventUnblocked    = migration.WaveEventUnblocked
	WaveEventCancelled    = migration.WaveEventCancelled
	WaveEventCompleted    = migration.WaveEventCompleted // notified
	WaveEventReopened     = migration.WaveEventReopened
	WaveEventRollingBack  = migration.WaveEventRollingBack
	WaveEventRolledBack   = migration.WaveEventRolledBack // notified
	WaveEventLimitLowered = "concurrency_lowered"
	WaveEventLimitRaised  = "concurrency_raised"
	WaveEventRescheduled  = "rescheduled"
	WaveEventMembers      = "members_changed"
	WaveEventRetryPlanned = "retry_planned"
)

// WaveEventAdd appends an event to a wave's timeline.
func (q *Queries) WaveEventAdd(ctx context.Context, waveID int64, kind, message, actor string) (WaveEvent, error) {
	r, err := q.gen.WaveEventAdd(ctx, dbsqlc.WaveEventAddParams{WaveID: waveID, Kind: kind, Message: message, Actor: actor})
	return WaveEvent(r), err
}

// WaveEvents returns a wave's timeline, oldest first.
func (q *Queries) WaveEvents(ctx context.Context, waveID int64) ([]WaveEvent, error) {
	rows, err := q.gen.WaveEvents(ctx, waveID)
	return mapRows(rows, err, func(r dbsqlc.WaveEvent) WaveEvent { return WaveEvent(r) })
}
