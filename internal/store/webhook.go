package store

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
)

// Webhook formats.
const (
	WebhookSlack = "slack" // Slack incoming webhook: {"text": ...}
	WebhookTeams = "teams" // Microsoft Teams incoming webhook: a MessageCard
	WebhookJSON  = "json"  // the notification as cutover writes it
)

// Webhook is where wave notifications go. Its URL carries its key: it is
// kept only to post to, and shown as its host.
type Webhook struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"-"`
	Host      string    `json:"host"`
	Format    string    `json:"format"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

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

const webhookColumns = `id, name, url, format, created_by, created_at`

func scanWebhook(row pgx.CollectableRow) (Webhook, error) {
	var h Webhook
	err := row.Scan(&h.ID, &h.Name, &h.URL, &h.Format, &h.CreatedBy, &h.CreatedAt)
	if u, perr := url.Parse(h.URL); perr == nil {
		h.Host = u.Host
	}
	return h, err
}

// WebhookCreate adds a webhook.
func (q *Queries) WebhookCreate(ctx context.Context, name, rawURL, format, actor string) (Webhook, error) {
	name, format, err := CheckWebhook(name, rawURL, format)
	if err != nil {
		return Webhook{}, err
	}
	rows, _ := q.db.Query(ctx, `
		INSERT INTO webhooks (name, url, format, created_by) VALUES ($1, $2, $3, $4) RETURNING `+webhookColumns,
		name, rawURL, format, actor)
	h, err := pgx.CollectExactlyOneRow(rows, scanWebhook)
	if violates(err, "webhooks_name_key") {
		return h, migration.Errorf(migration.EConflict, "webhook_exists", "a webhook named %q exists already", name)
	}
	return h, translate(err)
}

// WebhookList returns every webhook.
func (q *Queries) WebhookList(ctx context.Context) ([]Webhook, error) {
	rows, _ := q.db.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	return pgx.CollectRows(rows, scanWebhook)
}

// WebhookDelete removes a webhook and its deliveries.
func (q *Queries) WebhookDelete(ctx context.Context, id int64) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return missing("webhook %d does not exist", id)
	}
	return err
}

// Delivery is one notification to one webhook.
type Delivery struct {
	ID          int64      `json:"id"`
	WebhookID   int64      `json:"webhook_id"`
	WebhookName string     `json:"webhook"`
	Event       string     `json:"event"`
	WaveID      int64      `json:"wave_id"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastStatus  *int       `json:"last_status,omitempty"`
	LastError   *string    `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	URL         string     `json:"-"`
	Payload     []byte     `json:"-"`
}

const deliverySelect = `
SELECT d.id, d.webhook_id, h.name, d.event, e.wave_id, d.state, d.attempts, d.last_status, d.last_error,
       d.created_at, d.delivered_at, h.url, d.payload::text::bytea
FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id JOIN wave_events e ON e.id = d.wave_event_id`

// WebhookDeliveryAdd records a notification to send.
func (q *Queries) WebhookDeliveryAdd(ctx context.Context, webhookID, waveEventID int64, event string, payload []byte) (int64, error) {
	var id int64
	err := q.db.QueryRow(ctx, `
		INSERT INTO webhook_deliveries (webhook_id, wave_event_id, event, payload) VALUES ($1, $2, $3, $4::text::jsonb)
		RETURNING id`, webhookID, waveEventID, event, string(payload)).Scan(&id)
	return id, err
}

// WebhookDeliveryGet returns a delivery with its webhook's URL.
func (q *Queries) WebhookDeliveryGet(ctx context.Context, id int64) (Delivery, error) {
	rows, _ := q.db.Query(ctx, deliverySelect+` WHERE d.id = $1`, id)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Delivery])
	return d, notFound(err, "webhook delivery %d does not exist", id)
}

// WebhookDeliveries returns the deliveries of a wave's notifications.
func (q *Queries) WebhookDeliveries(ctx context.Context, waveID int64) ([]Delivery, error) {
	rows, _ := q.db.Query(ctx, deliverySelect+` WHERE e.wave_id = $1 ORDER BY d.id`, waveID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Delivery])
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
	_, err := q.db.Exec(ctx, `
		UPDATE webhook_deliveries SET attempts = attempts + 1, state = $2, last_status = nullif($3, 0),
		       last_error = nullif($4, ''), delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
		WHERE id = $1`, id, state, status, msg)
	return err
}
