-- Sessions of the web pages (sql/0014): only the hash of the cookie's
-- secret is kept.

-- name: SessionCreate :one
INSERT INTO sessions (hash, csrf, name, display_name, role, via, subject, token_id, expires_at)
VALUES (@hash, @csrf, @name, @display_name, @role, @via, @subject, sqlc.narg(token_id), @expires_at)
RETURNING id;

-- SessionAuthenticate reads the open session with this hash and notes its
-- last use, when that is a minute old: a request is not a write. A session
-- begun with a token ends with the token.
-- name: SessionAuthenticate :one
WITH s AS (
    SELECT x.id, x.csrf, x.name, x.display_name, x.role, x.via, x.token_id, x.expires_at, x.last_seen_at
    FROM sessions x
    LEFT JOIN api_tokens t ON t.id = x.token_id
    WHERE x.hash = @hash AND x.ended_at IS NULL AND x.expires_at > now()
      AND (x.token_id IS NULL OR t.revoked_at IS NULL)
),
seen AS (
    UPDATE sessions SET last_seen_at = now()
    WHERE id = (SELECT id FROM s) AND last_seen_at < now() - interval '1 minute'
)
SELECT id, csrf, name, display_name, role, via, token_id, expires_at FROM s;

-- SessionEnd ends an open session: signing out (by its hash) or an admin's
-- revocation (by its ID).
-- name: SessionEnd :one
UPDATE sessions SET ended_at = now(), ended_by = @ended_by
WHERE ended_at IS NULL AND (id = @id OR hash = @hash)
RETURNING id, name, display_name, role, via, created_at, expires_at, last_seen_at, ended_at, ended_by;

-- SessionList lists the sessions still open, newest first.
-- name: SessionList :many
SELECT id, name, display_name, role, via, created_at, expires_at, last_seen_at, ended_at, ended_by
FROM sessions
WHERE ended_at IS NULL AND expires_at > now()
ORDER BY id DESC
LIMIT 500;
