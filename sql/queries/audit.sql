-- The audit log (sql/0004): who changed what, appended to, never changed.

-- name: AuditAdd :exec
INSERT INTO audit_log (actor, action, target, outcome, detail) VALUES (@actor, @action, @target, @outcome, @detail);

-- AuditList reads the newest entries, at most max_entries, before the entry
-- with ID before (0: from the newest).
-- name: AuditList :many
SELECT id, at, actor, action, target, outcome, detail FROM audit_log
WHERE @before::bigint = 0 OR id < @before ORDER BY id DESC LIMIT @max_entries::int;
