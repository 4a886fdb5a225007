package store

import (
	"context"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Settings are the deployment's settings, shared by every process.
type Settings struct {
	// MaxInFlight caps the moves in flight across every wave and worker.
	MaxInFlight int       `json:"max_in_flight"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
	// PublicURL is where leads reach the pages ("" if not set): links in
	// notifications start with it.
	PublicURL string `json:"public_url"`
}

// MaxMaxInFlight is the highest cap the schema accepts.
const MaxMaxInFlight = 10000

// SettingsGet returns the deployment's settings.
func (q *Queries) SettingsGet(ctx context.Context) (Settings, error) {
	r, err := q.gen.SettingsGet(ctx)
	return Settings(r), err
}

// SettingsSetMaxInFlight sets the deployment's cap on moves in flight.
func (q *Queries) SettingsSetMaxInFlight(ctx context.Context, n int, actor string) (Settings, error) {
	if n < 1 || n > MaxMaxInFlight {
		return Settings{}, migration.Invalid("invalid_settings", "max_in_flight", "must be between 1 and %d (got %d)", MaxMaxInFlight, n)
	}
	r, err := q.gen.SettingsSetMaxInFlight(ctx, dbsqlc.SettingsSetMaxInFlightParams{MaxInFlight: n, Actor: actor})
	return Settings(r), err
}

// SettingsSetPublicURL records where leads reach the pages, if it changed.
func (q *Queries) SettingsSetPublicURL(ctx context.Context, publicURL, actor string) error {
	return q.gen.SettingsSetPublicURL(ctx, dbsqlc.SettingsSetPublicURLParams{PublicURL: strings.TrimRight(publicURL, "/"), Actor: actor})
}
