package store

import (
	"context"
	"time"

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
