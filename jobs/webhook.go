package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// WebhookArgs delivers one notification.
type WebhookArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (WebhookArgs) Kind() string { return "webhook" }

// webhookAttempts is how many times a notification is tried: with River's
// backoff (attempt⁴ seconds) the last try comes about 40 minutes after the
// first.
const webhookAttempts = 8

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: webhookAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Notification is the JSON body of a "json" webhook, and what the Slack and
// Teams bodies are written from.
type Notification struct {
	Event    string             `json:"event"`
	At       time.Time          `json:"at"`
	Message  string             `json:"message"`
	Wave     NotificationWave   `json:"wave"`
	Progress migration.Progress `json:"progress"`
	// Link is the wave's page, when the deployment's public URL is set.
	Link string `json:"link,omitempty"`
}

// NotificationWave names the wave a notification is about.
type NotificationWave struct {
	ID     int64               `json:"id"`
	Name   string              `json:"name"`
	Group  string              `json:"group"`
	State  migration.WaveState `json:"state"`
	Reason string              `json:"reason,omitempty"`
}

// notify records a delivery of a wave event to every webhook and queues
// their jobs, in the caller's transaction. Events webhooks do not hear of
// are left alone.
func notify(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], ev store.WaveEvent, w migration.Wave) error {
	if !migration.Notified(ev.Kind) {
		return nil
	}
	q := store.New(tx)
	hooks, err := q.WebhookList(ctx)
	if err != nil || len(hooks) == 0 {
		return err
	}
	group, err := q.GroupName(ctx, w.GroupID)
	if err != nil {
		return err
	}
	tallies, err := q.WaveTallies(ctx, []int64{w.ID})
	if err != nil {
		return err
	}
	settings, err := q.SettingsGet(ctx)
	if err != nil {
		return err
	}
	n := Notification{Event: "wave." + ev.Kind, At: ev.At, Message: ev.Message,
		Wave:     NotificationWave{ID: w.ID, Name: w.Name, Group: group, State: w.State, Reason: w.StateReason},
		Progress: migration.NewProgress(tallies[w.ID].Counts, w.StartedAt, w.FinishedAt, ev.At)}
	if settings.PublicURL != "" {
		n.Link = fmt.Sprintf("%s/ui/waves/%d", settings.PublicURL, w.ID)
	}
	params := make([]river.InsertManyParams, 0, len(hooks))
	for _, h := range hooks {
		body, err := payload(h.Format, n)
		if err != nil {
			return err
		}
		id, err := q.WebhookDeliveryAdd(ctx, h.ID, ev.ID, n.Event, body)
		if err != nil {
			return err
		}
		params = append(params, river.InsertManyParams{Args: WebhookArgs{DeliveryID: id}})
	}
	_, err = client.InsertManyTx(ctx, tx, params)
	return err
}

// payload writes a notification in a webhook's format: Slack's incoming
// webhooks read "text"; Teams' (a Workflows webhook, or an incoming
// webhook) read an Adaptive Card in a message; "json" is the notification
// itself.
func payload(format string, n Notification) ([]byte, error) {
	title := fmt.Sprintf("%s of %s: %s", n.Wave.Name, n.Wave.Group, strings.ReplaceAll(n.Event, "wave.", ""))
	counts := migration.TallyOf(n.Progress.Counts).Headline() // each user once, by outcome: what a person reads
	switch format {
	case store.WebhookSlack:
		text := fmt.Sprintf("*cutover: %s*\n%s\n%s", title, n.Message, counts)
		if n.Link != "" {
			text += fmt.Sprintf("\n<%s|Open the wave>", n.Link)
		}
		return json.Marshal(map[string]string{"text": text})
	case store.WebhookTeams:
		return json.Marshal(teamsMessage(title, counts, n))
	}
	return json.Marshal(n)
}

// teamsMessage is a notification as Teams reads it from a webhook: Office
// 365 connectors are retired, and a Workflows webhook (like an incoming
// webhook) posts the Adaptive Card of a message. The envelope ("type":
// "message", an attachment of contentType
// application/vnd.microsoft.card.adaptive with the card as its content) is
// MicrosoftDocs/msteams-docs,
// msteams-platform/webhooks-and-connectors/how-to/connectors-using.md ("Send
// adaptive cards using an incoming webhook"), which also lists
// Action.OpenUrl as supported. The card's elements and their properties
// (TextBlock text, wrap, weight, size, color; FactSet facts of title and
// value; Action.OpenUrl title and url) are those of Adaptive Cards 1.2,
// microsoft/AdaptiveCards, schemas/1.2.0/adaptive-card.json.
func teamsMessage(title, counts string, n Notification) map[string]any {
	colour := map[string]string{"wave.halted": "attention", "wave.completed": "good", "wave.rolled_back": "warning", "wave." + migration.WaveEventHeld: "attention"}[n.Event]
	if colour == "" {
		colour = "default"
	}
	facts := []map[string]string{{"title": "Wave", "value": n.Wave.Name}, {"title": "Group", "value": n.Wave.Group},
		{"title": "State", "value": strings.ReplaceAll(string(n.Wave.State), "_", " ")}, {"title": "Progress", "value": counts}}
	if n.Wave.Reason != "" {
		facts = append(facts, map[string]string{"title": "Why", "value": n.Wave.Reason})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.2",
		"body": []any{
			map[string]any{"type": "TextBlock", "text": "cutover: " + title, "weight": "bolder", "size": "medium", "color": colour, "wrap": true},
			map[string]any{"type": "TextBlock", "text": n.Message, "wrap": true},
			map[string]any{"type": "FactSet", "facts": facts},
		},
	}
	if n.Link != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open the wave", "url": n.Link}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

// WebhookWorker posts a notification to its webhook and records each try.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	pool *pgxpool.Pool
	cfg  Config
	log  *slog.Logger
}

// Work implements river.Worker.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	q := store.New(w.pool)
	d, err := q.WebhookDeliveryGet(ctx, job.Args.DeliveryID)
	if migration.ErrorKind(err) == migration.ENotFound {
		return river.JobCancel(err) // its webhook was deleted
	}
	if err != nil {
		return err
	}
	if d.State != "pending" {
		return nil
	}
	status, sendErr := w.send(ctx, d.URL, d.Payload)
	final := sendErr != nil && job.Attempt >= job.MaxAttempts
	if err := q.WebhookDeliveryAttempt(context.WithoutCancel(ctx), d.ID, status, sendErr, final); err != nil {
		return err
	}
	if sendErr != nil {
		w.log.Warn("webhook delivery failed", "webhook", d.WebhookName, "event", d.Event, "attempt", job.Attempt, "error", sendErr)
		return sendErr
	}
	return nil
}

// send posts body to target. Its errors never hold the URL: a webhook's URL
// carries its key.
func (w *WebhookWorker) send(ctx context.Context, target string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the webhook's URL does not parse")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cutover")
	resp, err := w.cfg.HTTPClient.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the webhook answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	return resp.StatusCode, nil
}
