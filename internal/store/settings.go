package store

import (
	"context"
	"strings"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Settings is migration.Settings: the store reads and writes it.
type Settings = migration.Settings

// Simulated is migration.Simulated: the store reads and writes it.
type Simulated = migration.Simulated

// settingsOf is the store's settings of a row.
func settingsOf(r dbsqlc.SettingsGetRow) Settings {
	return Settings{MaxInFlight: r.MaxInFlight, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, PublicURL: r.PublicURL,
		Simulated: Simulated{Shell: r.SimulatedShell, Graph: r.SimulatedGraph}}
}

// MaxMaxInFlight is the highest cap the schema accepts.
const MaxMaxInFlight = 10000

// SettingsGet returns the deployment's settings.
func (q *Queries) SettingsGet(ctx context.Context) (Settings, error) {
	r, err := q.gen.SettingsGet(ctx)
	return settingsOf(r), err
}

// SettingsSetMaxInFlight sets the deployment's cap on moves in flight.
func (q *Queries) SettingsSetMaxInFlight(ctx context.Context, n int, actor string) (Settings, error) {
	if n < 1 || n > MaxMaxInFlight {
		return Settings{}, migration.Invalid("invalid_settings", "max_in_flight", "must be between 1 and %d (got %d)", MaxMaxInFlight, n)
	}
	r, err := q.gen.SettingsSetMaxInFlight(ctx, dbsqlc.SettingsSetMaxInFlightParams{MaxInFlight: n, Actor: actor})
	return settingsOf(dbsqlc.SettingsGetRow(r)), err
}

// SettingsSetPublicURL records where leads reach the pages, if it changed.
func (q *Queries) SettingsSetPublicURL(ctx context.Context, publicURL string) error {
	return q.gen.SettingsSetPublicURL(ctx, strings.TrimRight(publicURL, "/"))
}

// SettingsSetSimulated records which of the shell and Graph a starting
// process runs simulated.
func (q *Queries) SettingsSetSimulated(ctx context.Context, s Simulated) error {
	return q.gen.SettingsSetSimulated(ctx, dbsqlc.SettingsSetSimulatedParams{SimulatedShell: s.Shell, SimulatedGraph: s.Graph})
}
