-- The deployment's settings, shared by every process (sql/0003, sql/0012,
-- sql/0013).

-- name: SettingsGet :one
SELECT max_in_flight, updated_at, updated_by, public_url, simulated_shell, simulated_graph FROM deployment_settings;

-- name: SettingsSetMaxInFlight :one
UPDATE deployment_settings SET max_in_flight = @max_in_flight, updated_at = now(), updated_by = @actor
RETURNING max_in_flight, updated_at, updated_by, public_url, simulated_shell, simulated_graph;

-- SettingsSetPublicURL records where leads reach the pages; updated_at and
-- updated_by stay those of the cap, which a lead set.
-- name: SettingsSetPublicURL :exec
UPDATE deployment_settings SET public_url = @public_url::text WHERE public_url <> @public_url::text;

-- SettingsSetSimulated records whether the shell and Graph a process
-- starts with are simulated.
-- name: SettingsSetSimulated :exec
UPDATE deployment_settings SET simulated_shell = @simulated_shell, simulated_graph = @simulated_graph
WHERE (simulated_shell, simulated_graph) IS DISTINCT FROM (@simulated_shell, @simulated_graph);
