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
	// Simulated says which of the shell and Graph are the simulated
	// tenant's.
	Simulated Simulated `json:"simulated"`
}

// Simulated says whether the on-premises shell and Microsoft Graph are the
// simulated tenant's: nothing then reaches Microsoft.
type Simulated struct {
	Shell bool `json:"shell"`
	Graph bool `json:"graph"`
}

// Any reports whether anything is simulated.
func (s Simulated) Any() bool { return s.Shell || s.Graph }

// Says is what the pages and the command line tell a lead or a helpdesk
// agent about a simulated tenant ("" when nothing is simulated).
func (s Simulated) Says() string {
	switch {
	case s.Shell && s.Graph:
		return "The on-premises shell and Microsoft Graph are simulated: nothing here reaches Microsoft, and no user is moved."
	case s.Shell:
		return "The on-premises shell is simulated: no user is moved."
	case s.Graph:
		return "Microsoft Graph is simulated: the checks in Entra ID and Teams are not Microsoft's answers."
	}
	return ""
}

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
