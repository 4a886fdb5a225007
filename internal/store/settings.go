package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
)

// Settings are the deployment's settings, shared by every process.
type Settings struct {
	// MaxInFlight caps the moves in flight across every wave and worker.
	MaxInFlight int       `json:"max_in_flight"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
}

// MaxMaxInFlight is the highest cap the schema accepts.
const MaxMaxInFlight = 10000

// SettingsGet returns the deployment's settings.
func (q *Queries) SettingsGet(ctx context.Context) (Settings, error) {
	rows, _ := q.db.Query(ctx, `SELECT max_in_flight, updated_at, updated_by FROM deployment_settings`)
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Settings])
}

// SettingsSetMaxInFlight sets the deployment's cap on moves in flight.
func (q *Queries) SettingsSetMaxInFlight(ctx context.Context, n int, actor string) (Settings, error) {
	if n < 1 || n > MaxMaxInFlight {
		return Settings{}, migration.Invalid("invalid_settings", "max_in_flight", "must be between 1 and %d (got %d)", MaxMaxInFlight, n)
	}
	rows, _ := q.db.Query(ctx, `
		UPDATE deployment_settings SET max_in_flight = $1, updated_at = now(), updated_by = $2
		RETURNING max_in_flight, updated_at, updated_by`, n, actor)
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Settings])
}
