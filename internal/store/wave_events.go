package store

import (
	"context"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// WaveEvent is migration.WaveEvent: the store reads and writes it.
type WaveEvent = migration.WaveEvent

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
