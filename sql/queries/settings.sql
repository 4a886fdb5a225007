-- The deployment's settings, shared by every process (sql/0003, sql/0012).

-- name: SettingsGet :one
SELECT max_in_flight, updated_at, updated_by, public_url FROM deployment_settings;

-- name: SettingsSetMaxInFlight :one
UPDATE deployment_settings SET max_in_flight = @max_in_flight, updated_at = now(), updated_by = @actor
RETURNING max_in_flight, updated_at, updated_by, public_url;

-- name: SettingsSetPublicURL :exec
UPDATE deployment_settings SET public_url = @public_url::text, updated_at = now(), updated_by = @actor
WHERE public_url <> @public_url::text;
