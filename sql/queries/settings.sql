-- The deployment's settings, shared by every process (sql/0003, sql/0006).

-- name: SettingsGet :one
SELECT max_in_flight, updated_at, updated_by FROM deployment_settings;

-- name: SettingsSetMaxInFlight :one
UPDATE deployment_settings SET max_in_flight = @max_in_flight, updated_at = now(), updated_by = @actor
RETURNING max_in_flight, updated_at, updated_by;
