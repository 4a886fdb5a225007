package api

import (
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
)

// The answers that wrap what a use case returns: each endpoint answers one
// of these, or a value of internal/app or the store as it is, and
// openapi.yaml describes each (TestOpenAPIResponses holds them equal).

// readyAnswer is /readyz's.
type readyAnswer struct {
	Status            string   `json:"status"`
	PendingMigrations []string `json:"pending_migrations,omitempty"`
}

// meAnswer says who the request acts for.
type meAnswer struct {
	Name      string              `json:"name"`
	Role      auth.Role           `json:"role"`
	Simulated migration.Simulated `json:"simulated"`
}

type auditAnswer struct {
	Entries []app.AuditView `json:"entries"`
}

// tokenCreatedAnswer holds the new token's secret, shown this once.
type tokenCreatedAnswer struct {
	Token  auth.Token `json:"token"`
	Secret string     `json:"secret"`
	Note   string     `json:"note"`
}

type tokensAnswer struct {
	Tokens []auth.Token `json:"tokens"`
}

type groupsAnswer struct {
	Groups []app.GroupView `json:"groups"`
}

// wavesAnswer is a plan's: the waves it made.
type wavesAnswer struct {
	Waves []app.WaveView `json:"waves"`
}

type webhooksAnswer struct {
	Webhooks []migration.Webhook `json:"webhooks"`
}

// readinessCheckAnswer says when every worker was asked to check its host,
// and the report as it stands.
type readinessCheckAnswer struct {
	RequestedAt time.Time            `json:"requested_at"`
	Readiness   readiness.Deployment `json:"readiness"`
}

// A wave's lists.
type (
	movesAnswer struct {
		Moves []migration.Move `json:"moves"`
	}
	eventsAnswer struct {
		Events []migration.WaveEvent `json:"events"`
	}
	deliveriesAnswer struct {
		Deliveries []migration.Delivery `json:"deliveries"`
	}
)

// sessionsAnswer lists the pages' open sessions.
type sessionsAnswer struct {
	Sessions []auth.Session `json:"sessions"`
}

// planPreviewAnswer is a plan's waves as they would be made; nothing is kept.
type planPreviewAnswer struct {
	Preview bool             `json:"preview"`
	Waves   []migration.Wave `json:"waves"`
	// EndsAround is when the last wave is expected to end, at the pace of
	// the last week's moves (PaceSeconds, the median of PaceMoves); absent
	// while no move has ended.
	EndsAround  *time.Time  `json:"ends_around,omitempty"`
	WaveEnds    []time.Time `json:"wave_ends,omitempty"`
	PaceSeconds float64     `json:"pace_seconds,omitempty"`
	PaceMoves   int         `json:"pace_moves,omitempty"`
}

// entraGroupsAnswer lists the Entra ID groups whose name starts with what a
// lead typed, for the lead to pick the one to import.
type entraGroupsAnswer struct {
	Groups []entraGroup `json:"groups"`
}

// entraGroup is an Entra ID group as the list shows it; Description is
// empty when the group has none.
type entraGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}
