package store

import (
	"context"
	"net/url"
	"strings"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Webhook formats.
const (
	WebhookSlack = "slack" // Slack incoming webhook: {"text": ...}
	WebhookTeams = "teams" // Microsoft Teams Workflows (or incoming) webhook: an Adaptive Card in a message
	WebhookJSON  = "json"  // the notification as cutover writes it
)

// Webhook is migration.Webhook: the store reads and writes it.
type Webhook = migration.Webhook

// CheckWebhook validates a webhook to add, filling in its format from its
// host when none is given; errors name the field.
func CheckWebhook(name, rawURL, format string) (string, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", "", migration.Invalid("invalid_webhook", "name", "must be 1 to 100 characters")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", migration.Invalid("invalid_webhook", "url", "is not an http or https URL")
	}
	if format == "" {
		switch host := strings.ToLower(u.Hostname()); {
		case host == "hooks.slack.com":
			format = WebhookSlack
		case strings.HasSuffix(host, ".webhook.office.com"), strings.HasSuffix(host, ".logic.azure.com"), strings.HasSuffix(host, ".environment.api.powerplatform.com"):
			format = WebhookTeams
		default:
			format = WebhookJSON
		}
	}
	if format != WebhookSlack && format != WebhookTeams && format != WebhookJSON {
		return "", "", migration.Invalid("invalid_webhook", "format", "%q is not slack, teams or json", format)
	}
	return name, format, nil
}

// webhookOf is the store's webhook of a row: its URL's host is shown.
func webhookOf(r dbsqlc.Webhook) Webhook {
	h := Webhook{ID: r.ID, Name: r.Name, URL: r.URL, Format: r.Format, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
	if u, err := url.Parse(h.URL); err == nil {
		h.Host = u.Host
	}
	return h
}

// WebhookCreate adds a webhook.
func (q *Queries) WebhookCreate(ctx context.Context, name, rawURL, format, actor string) (Webhook, error) {
	name, format, err := CheckWebhook(name, rawURL, format)
	if err != nil {
		return Webhook{}, err
	}
	r, err := q.gen.WebhookCreate(ctx, dbsqlc.WebhookCreateParams{Name: name, URL: rawURL, Format: format, CreatedBy: actor})
	if violates(err, "webhooks_name_key") {
		return Webhook{}, migration.Errorf(migration.EConflict, "webhook_exists", "a webhook named %q exists already", name)
	}
	if err != nil {
		return Webhook{}, translate(err)
	}
	return webhookOf(r), nil
}

// WebhookList returns every webhook.
func (q *Queries) WebhookList(ctx context.Context) ([]Webhook, error) {
	rows, err := q.gen.WebhookList(ctx)
	return mapRows(rows, err, webhookOf)
}

// WebhookDelete removes a webhook and its deliveries.
func (q *Queries) WebhookDelete(ctx context.Context, id int64) error {
	n, err := q.gen.WebhookDelete(ctx, id)
	if err == nil && n == 0 {
		return missing("webhook %d does not exist", id)
	}
	return err
}

// Delivery is migration.Delivery: the store reads and writes it.
type Delivery = migration.Delivery

// WebhookDeliveryAdd records a notification to send.
func (q *Queries) WebhookDeliveryAdd(ctx context.Context, webhookID, waveEventID int64, event string, payload []byte) (int64, error) {
	return q.gen.WebhookDeliveryAdd(ctx, dbsqlc.WebhookDeliveryAddParams{WebhookID: webhookID, WaveEventID: waveEventID,
		Event: event, Payload: string(payload)})
}

// WebhookDeliveryGet returns a delivery with its webhook's URL.
func (q *Queries) WebhookDeliveryGet(ctx context.Context, id int64) (Delivery, error) {
	r, err := q.gen.WebhookDeliveryGet(ctx, id)
	return Delivery(dbsqlc.WebhookDeliveriesRow(r)), notFound(err, "webhook delivery %d does not exist", id)
}

// WebhookDeliveries returns the deliveries of a wave's notifications.
func (q *Queries) WebhookDeliveries(ctx context.Context, waveID int64) ([]Delivery, error) {
	rows, err := q.gen.WebhookDeliveries(ctx, waveID)
	return mapRows(rows, err, func(r dbsqlc.WebhookDeliveriesRow) Delivery { return Delivery(r) })
}

// WebhookDeliveryAttempt records one try: delivered without error, failed
// for good when final.
func (q *Queries) WebhookDeliveryAttempt(ctx context.Context, id int64, status int, sendErr error, final bool) error {
	state, msg := "delivered", ""
	switch {
	case sendErr != nil && final:
		state, msg = "failed", sendErr.Error()
	case sendErr != nil:
		state, msg = "pending", sendErr.Error()
	}
	return q.gen.WebhookDeliveryAttempt(ctx, dbsqlc.WebhookDeliveryAttemptParams{ID: id, State: state, Status: status, Error: msg})
}
