-- The deployment as workers see it (sql/0008, sql/0009): worker hosts and
-- their checks, holds that stop every move start, hybrid readiness, and the
-- worker processes' heartbeats.

-- name: HostSave :exec
INSERT INTO worker_hosts (id, host, ready, facts, checks, checked_at) VALUES (@id, @host, @ready, @facts, @checks, @checked_at)
ON CONFLICT (id) DO UPDATE SET host = @host, ready = @ready, facts = @facts, checks = @checks, checked_at = @checked_at;

-- name: HostList :many
SELECT id, host, ready, facts, checks, checked_at FROM worker_hosts
WHERE checked_at >= @since ORDER BY checked_at DESC, id;

-- name: Holds :many
SELECT code, reason, evidence, since, set_by FROM deployment_holds ORDER BY since, code;

-- HoldSet records a hold unless one of its code is held already.
-- name: HoldSet :execrows
INSERT INTO deployment_holds (code, reason, evidence, set_by) VALUES (@code, @reason, @evidence, @set_by)
ON CONFLICT (code) DO NOTHING;

-- HoldClear removes a hold and keeps it in the history (sql/0019).
-- name: HoldClear :one
WITH cleared AS (
    DELETE FROM deployment_holds h WHERE h.code = @code RETURNING h.code, h.reason, h.evidence, h.since, h.set_by
), kept AS (
    INSERT INTO deployment_hold_history (code, reason, evidence, since, set_by)
    SELECT c.code, c.reason, c.evidence, c.since, c.set_by FROM cleared c
)
SELECT c.code, c.reason, c.evidence, c.since, c.set_by FROM cleared c;

-- HeldSpans reads the spans of time since @since during which a hold was
-- set: those that ended, and those still set (ending now).
-- name: HeldSpans :many
SELECT since, until FROM deployment_hold_history WHERE until > @since::timestamptz
UNION ALL
SELECT since, now()::timestamptz AS until FROM deployment_holds
ORDER BY since;

-- name: ReadinessSave :exec
INSERT INTO readiness_checks (section, checks, checked_at, checked_by) VALUES (@section, @checks, @checked_at, @checked_by)
ON CONFLICT (section) DO UPDATE SET checks = @checks, checked_at = @checked_at, checked_by = @checked_by;

-- name: ReadinessList :many
SELECT section, checks, checked_at, checked_by FROM readiness_checks ORDER BY section;

-- ReadinessRequest asks every worker to check its host now.
-- name: ReadinessRequest :one
INSERT INTO readiness_requests (requested_at, requested_by) VALUES (now(), @actor)
ON CONFLICT (id) DO UPDATE SET requested_at = now(), requested_by = @actor RETURNING requested_at;

-- ReadinessRequestedAt says when a check was last asked for (no row: never).
-- name: ReadinessRequestedAt :one
SELECT requested_at FROM readiness_requests ORDER BY requested_at DESC LIMIT 1;

-- Heartbeat records that a worker process lives, renews the slots of the
-- moves it works, and buries the processes silent for dead_after seconds
-- (sql/0009).
-- name: Heartbeat :many
SELECT h.process::text AS process, h.last_heartbeat::timestamptz AS last_heartbeat, h.jobs::int AS jobs, h.move_ids::bigint[] AS move_ids
FROM cutover_heartbeat(@id::text, @host::text, @ttl_seconds::double precision, @dead_after_seconds::double precision, @moves::bigint[])
     AS h(process, last_heartbeat, jobs, move_ids);

-- name: ProcessEnd :exec
UPDATE worker_processes SET ended_at = now(), end_reason = @reason::text WHERE id = @id AND ended_at IS NULL;

-- Processes reads the worker processes alive, or ended since since, most
-- recent first.
-- name: Processes :many
SELECT id, host, started_at, heartbeat_at, ended_at, coalesce(end_reason, '')::text AS end_reason, lost FROM worker_processes
WHERE ended_at IS NULL OR ended_at >= @since::timestamptz ORDER BY ended_at DESC NULLS FIRST, started_at DESC;

-- HoldsLock serialises, until its transaction ends, the changes of the
-- deployment's holds and of the reasons they give running waves: each such
-- transaction reads the holds the others committed, so that two holds set
-- at once never leave a wave's reason naming only one.
-- name: HoldsLock :exec
SELECT pg_advisory_xact_lock(hashtext('cutover_deployment_holds'));
