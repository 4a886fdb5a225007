-- API tokens (sql/0004): only their hash is kept.

-- name: TokenCreate :one
INSERT INTO api_tokens (name, role, hash, created_by) VALUES (@name, @role, @hash, @created_by)
RETURNING id, name, role, created_by, created_at, last_used_at, revoked_at;

-- name: TokenList :many
SELECT id, name, role, created_by, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id DESC;

-- TokenRevoke revokes a token in use, by ID or name.
-- name: TokenRevoke :one
UPDATE api_tokens SET revoked_at = now()
WHERE revoked_at IS NULL AND (id::text = @id_or_name::text OR name = @id_or_name::text)
RETURNING id, name, role, created_by, created_at, last_used_at, revoked_at;

-- TokenAuthenticate reads the token in use with this hash and notes its
-- last use, when that is a minute old: a request is not a write.
-- name: TokenAuthenticate :one
WITH t AS (SELECT a.id, a.name, a.role, a.last_used_at FROM api_tokens a WHERE a.hash = @hash AND a.revoked_at IS NULL),
used AS (
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = (SELECT id FROM t) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
)
SELECT id, name, role FROM t;
