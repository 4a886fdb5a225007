-- GaugeMoves counts the moves by state and error code. The Gauge queries
-- are what the metrics read from the database at each scrape
-- (store.GaugesRead), the same from every process.
-- name: GaugeMoves :many
SELECT state, coalesce(error_code, '')::text AS error_code, count(*)::float8 AS n FROM moves GROUP BY 1, 2;

-- name: GaugeInFlight :one
SELECT count(*)::float8 FROM cap_slots WHERE expires_at >= now();

-- name: GaugeCap :one
SELECT max_in_flight::float8 FROM deployment_settings;

-- GaugeWaveMoves counts the moves of each wave not finished, by state.
-- name: GaugeWaveMoves :many
SELECT w.id::text AS wave_id, w.name AS wave, g.name AS group_name, m.state, count(*)::float8 AS n
FROM waves w JOIN pilot_groups g ON g.id = w.group_id JOIN moves m ON m.wave_id = w.id
WHERE w.finished_at IS NULL GROUP BY 1, 2, 3, 4;

-- GaugeHosts says of each worker host checked in the last 15 minutes
-- whether it passed.
-- name: GaugeHosts :many
SELECT id, host, (CASE WHEN ready THEN 1 ELSE 0 END)::float8 AS n FROM worker_hosts
WHERE checked_at >= now() - interval '15 minutes';

-- GaugeProcesses counts the worker processes alive (a heartbeat in the last
-- 5 seconds) and lost (found dead, in the last 24 hours).
-- name: GaugeProcesses :many
SELECT 'alive'::text AS state, (count(*) FILTER (WHERE ended_at IS NULL AND heartbeat_at >= now() - interval '5 seconds'))::float8 AS n FROM worker_processes
UNION ALL
SELECT 'lost'::text, (count(*) FILTER (WHERE ended_at >= now() - interval '24 hours' AND lost))::float8 FROM worker_processes;

-- name: GaugeHolds :many
SELECT code FROM deployment_holds;

-- GaugeWaveLimits reads each running wave's adaptive limit.
-- name: GaugeWaveLimits :many
SELECT w.id::text AS wave_id, w.name AS wave, g.name AS group_name, w.concurrency_limit::float8 AS n
FROM waves w JOIN pilot_groups g ON g.id = w.group_id WHERE w.state = 'running';

-- GaugeRiverJobs counts River's jobs by queue and waiting state, every
-- queue and state with zeros included, so that a graph of a queue's depth
-- does not break off when the queue empties.
-- name: GaugeRiverJobs :many
SELECT q.queue::text AS queue, s.state::text AS state, count(j.id)::float8 AS n
FROM (SELECT 'moves' UNION SELECT 'control' UNION SELECT DISTINCT j.queue FROM river_job j WHERE j.state IN ('available', 'scheduled', 'running', 'retryable')) AS q(queue)
CROSS JOIN (VALUES ('available'), ('scheduled'), ('running'), ('retryable')) AS s(state)
LEFT JOIN river_job j ON j.queue = q.queue AND j.state::text = s.state
GROUP BY 1, 2;
