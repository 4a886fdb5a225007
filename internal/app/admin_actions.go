package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/store"
)

// The changes to the deployment a lead or an admin makes: the cap on moves
// in flight, webhooks, tokens, a readiness check asked for. Each is
// recorded in the audit log with its change.

// SetMaxInFlight sets the deployment's cap on moves in flight.
func (s *Service) SetMaxInFlight(ctx context.Context, a Actor, n int) (store.Settings, error) {
	var st store.Settings
	err := s.change(ctx, a, AuditMaxInFlight, fmt.Sprint(n), func(_ pgx.Tx, q *store.Queries) (err error) {
		st, err = q.SettingsSetMaxInFlight(ctx, n, a.Name)
		return err
	})
	return st, err
}

// WebhookRequest is a webhook to add; an empty Format is read from the
// URL's host.
type WebhookRequest struct {
	Name, URL, Format string
}

// WebhookAdd adds a webhook.
func (s *Service) WebhookAdd(ctx context.Context, a Actor, r WebhookRequest) (store.Webhook, error) {
	var h store.Webhook
	err := s.change(ctx, a, AuditWebhookAdd, "webhook "+r.Name, func(_ pgx.Tx, q *store.Queries) (err error) {
		h, err = q.WebhookCreate(ctx, r.Name, r.URL, r.Format, a.Name)
		return err
	})
	return h, err
}

// WebhookRemove removes a webhook and its deliveries.
func (s *Service) WebhookRemove(ctx context.Context, a Actor, id int64) error {
	return s.change(ctx, a, AuditWebhookRemove, fmt.Sprintf("webhook %d", id), func(_ pgx.Tx, q *store.Queries) error {
		return q.WebhookDelete(ctx, id)
	})
}

// TokenCreate makes an API token and returns it with its secret, which is
// shown once and not kept.
func (s *Service) TokenCreate(ctx context.Context, a Actor, name string, role auth.Role) (store.Token, string, error) {
	var t store.Token
	var secret string
	err := s.change(ctx, a, AuditTokenCreate, "token "+name, func(_ pgx.Tx, q *store.Queries) (err error) {
		t, secret, err = q.TokenCreate(ctx, name, role, a.Name)
		return err
	})
	return t, secret, err
}

// TokenRevoke revokes a token in use, by ID or name.
func (s *Service) TokenRevoke(ctx context.Context, a Actor, idOrName string) (store.Token, error) {
	var t store.Token
	err := s.change(ctx, a, AuditTokenRevoke, "token "+idOrName, func(_ pgx.Tx, q *store.Queries) (err error) {
		t, err = q.TokenRevoke(ctx, idOrName)
		return err
	})
	return t, err
}

// ReadinessRequest asks every worker to check its host now.
func (s *Service) ReadinessRequest(ctx context.Context, a Actor) (time.Time, error) {
	var at time.Time
	err := s.change(ctx, a, AuditReadinessCheck, "deployment", func(_ pgx.Tx, q *store.Queries) (err error) {
		at, err = q.ReadinessRequest(ctx, a.Name)
		return err
	})
	return at, err
}
