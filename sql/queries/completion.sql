-- CompletionClaim claims up to max_items pending completion items due by
-- now, soonest first, for lease_seconds: their next look moves that far on,
-- so that no other worker takes them meanwhile and a worker that dies
-- loses nothing (they are due again when the lease ends). Items of a move
-- no longer moved (rolled back) are not claimed. It returns each with its
-- user and when they were moved.
-- name: CompletionClaim :many
WITH due AS (
    SELECT c.move_id, c.kind FROM completion_items c JOIN moves m ON m.id = c.move_id
    WHERE c.state = 'pending' AND c.check_at <= now() AND m.state = 'moved'
    ORDER BY c.check_at
    LIMIT @max_items
    FOR UPDATE OF c SKIP LOCKED
), claimed AS (
    UPDATE completion_items c SET check_at = now() + make_interval(secs => @lease_seconds::double precision)
    FROM due WHERE c.move_id = due.move_id AND c.kind = due.kind
    RETURNING c.move_id, c.kind
)
SELECT cl.move_id, cl.kind, m.upn, coalesce(m.finished_at, m.updated_at)::timestamptz AS moved_at,
       coalesce(r.line_uri, '')::text AS line_uri, w.bypass_enterprise_voice_check AS bypass
FROM claimed cl JOIN moves m ON m.id = cl.move_id JOIN waves w ON w.id = m.wave_id
LEFT JOIN rollback_records r ON r.move_id = m.id;

-- CompletionSet writes what looks at items found, one row per item, in one
-- statement; an item whose state changed gets an entry in its user's
-- timeline.
-- name: CompletionSet :exec
WITH changed AS (
    SELECT unnest(@move_ids::bigint[]) AS move_id, unnest(@kinds::text[]) AS kind, unnest(@states::text[]) AS state,
           unnest(@says::text[]) AS says, unnest(@evidence::text[]) AS evidence, unnest(@messages::text[]) AS message,
           unnest(@fixes::text[]) AS fix, unnest(@check_ats::timestamptz[]) AS check_at
), prev AS (
    SELECT c.move_id, c.kind, c.state, c.says FROM completion_items c JOIN changed USING (move_id, kind)
), written AS (
    UPDATE completion_items c SET state = u.state, says = u.says, evidence = u.evidence, message = u.message, fix = u.fix,
                                  check_at = CASE WHEN u.state = 'pending' THEN u.check_at END, checks = c.checks + 1, updated_at = now()
    FROM changed u WHERE c.move_id = u.move_id AND c.kind = u.kind
    RETURNING c.move_id
)
INSERT INTO move_events (move_id, state, message, actor)
SELECT u.move_id, m.state, 'completion: ' || u.says || CASE WHEN u.message <> '' THEN ' Microsoft says: ' || u.message ELSE '' END, @actor
FROM changed u JOIN prev p USING (move_id, kind) JOIN moves m ON m.id = u.move_id
WHERE p.state IS DISTINCT FROM u.state OR p.says IS DISTINCT FROM u.says;

-- CompletionOfMoves reads the completion items of moves, in the order a
-- checklist shows them.
-- name: CompletionOfMoves :many
SELECT * FROM completion_items WHERE move_id = ANY(@move_ids::bigint[]) ORDER BY move_id, kind;

-- CompletionLater gives items whose look could not be made (Microsoft did
-- not answer) their next look at check_at, ending their claim early.
-- name: CompletionLater :exec
UPDATE completion_items c SET check_at = @check_at
FROM (SELECT unnest(@move_ids::bigint[]) AS move_id, unnest(@kinds::text[]) AS kind) u
WHERE c.move_id = u.move_id AND c.kind = u.kind AND c.state = 'pending';
