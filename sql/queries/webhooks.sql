-- Webhooks and the deliveries of wave notifications to them (sql/0003).

-- name: WebhookCreate :one
INSERT INTO webhooks (name, url, format, created_by) VALUES (@name, @url, @format, @created_by)
RETURNING id, name, url, format, created_by, created_at;

-- name: WebhookList :many
SELECT id, name, url, format, created_by, created_at FROM webhooks ORDER BY id;

-- name: WebhookDelete :execrows
DELETE FROM webhooks WHERE id = @id;

-- name: WebhookDeliveryAdd :one
INSERT INTO webhook_deliveries (webhook_id, wave_event_id, event, payload) VALUES (@webhook_id, @wave_event_id, @event, CAST(@payload::text AS jsonb))
RETURNING id;

-- name: WebhookDeliveryGet :one
SELECT d.id, d.webhook_id, h.name AS webhook_name, d.event, e.wave_id, d.state, d.attempts, d.last_status, d.last_error,
       d.created_at, d.delivered_at, h.url, d.payload::text::bytea AS payload
FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id JOIN wave_events e ON e.id = d.wave_event_id
WHERE d.id = @id;

-- name: WebhookDeliveries :many
SELECT d.id, d.webhook_id, h.name AS webhook_name, d.event, e.wave_id, d.state, d.attempts, d.last_status, d.last_error,
       d.created_at, d.delivered_at, h.url, d.payload::text::bytea AS payload
FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id JOIN wave_events e ON e.id = d.wave_event_id
WHERE e.wave_id = @wave_id ORDER BY d.id;

-- WebhookDeliveryAttempt records one try in state delivered, pending (to
-- try again) or failed.
-- name: WebhookDeliveryAttempt :exec
UPDATE webhook_deliveries SET attempts = attempts + 1, state = @state::text, last_status = nullif(@status::int, 0),
       last_error = nullif(@error::text, ''), delivered_at = CASE WHEN @state = 'delivered' THEN now() END
WHERE id = @id;
