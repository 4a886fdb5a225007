-- The audit log (sql/0004, sql/0018): who changed what, appended to, never
-- changed.

-- AuditAdd records a change; a wave's entry is its group's too.
-- name: AuditAdd :exec
INSERT INTO audit_log (actor, action, target, outcome, detail, wave_id, group_id, subject)
VALUES (@actor, @action, @target, @outcome, @detail, sqlc.narg(wave_id)::bigint,
        coalesce(sqlc.narg(group_id)::bigint, (SELECT w.group_id FROM waves w WHERE w.id = sqlc.narg(wave_id)::bigint)), @subject);

-- AuditList reads the newest entries, at most max_entries, before the entry
-- with ID before (0: from the newest), with the names of their group and
-- wave. Filters (each off when empty or 0): who, what (the action), the
-- group, and from and until when.
-- name: AuditList :many
SELECT a.id, a.at, a.actor, a.action, a.target, a.outcome, a.detail, a.wave_id, a.group_id, a.subject,
       coalesce(g.name, '')::text AS group_name, coalesce(w.name, '')::text AS wave_name
FROM audit_log a
LEFT JOIN pilot_groups g ON g.id = a.group_id
LEFT JOIN waves w ON w.id = a.wave_id
WHERE (@before::bigint = 0 OR a.id < @before)
  AND (@actor::text = '' OR a.actor = @actor)
  AND (coalesce(cardinality(@actions::text[]), 0) = 0 OR a.action = ANY(@actions))
  AND (@group_id::bigint = 0 OR a.group_id = @group_id)
  AND (sqlc.narg(since)::timestamptz IS NULL OR a.at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR a.at < sqlc.narg(until))
ORDER BY a.id DESC
LIMIT @max_entries::int;

-- AuditActors reads everyone in the audit log, for its filter.
-- name: AuditActors :many
SELECT DISTINCT actor FROM audit_log ORDER BY actor;
