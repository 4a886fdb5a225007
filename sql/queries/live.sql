-- The notifications that wake the pages following waves live
-- (internal/live). They are sent once the changes have committed, never in
-- their transactions: a transaction that notifies takes a lock at commit
-- that every other such transaction then waits for.

-- LiveNotify sends each payload on channel cutover_waves, in one statement.
-- name: LiveNotify :exec
SELECT pg_notify('cutover_waves', p) FROM unnest(@payloads::text[]) AS p;

-- LiveListen has the session hear channel cutover_waves.
-- name: LiveListen :exec
LISTEN cutover_waves;
