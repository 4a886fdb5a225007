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
SELECT cl.move_id, cl.kind, m.upn, m.wave_id, coalesce(m.finished_at, m.updated_at)::timestamptz AS moved_at,
       coalesce(r.line_uri, '')::text AS line_uri, w.bypass_enterprise_voice_check AS bypass,
       w.number_plan, (w.numbers_approved_at IS NOT NULL)::boolean AS numbers_approved,
       (w.routing_confirmed_at IS NOT NULL)::boolean AS routing_confirmed,
       w.windows, w.time_zone, w.blackout_dates::text[] AS blackout_dates,
       coalesce((SELECT n.state FROM completion_items n WHERE n.move_id = cl.move_id AND n.kind = 'number'), '')::text AS number_state,
       ci.acted, ci.acted_at
FROM claimed cl JOIN moves m ON m.id = cl.move_id JOIN waves w ON w.id = m.wave_id
JOIN completion_items ci ON ci.move_id = cl.move_id AND ci.kind = cl.kind
LEFT JOIN rollback_records r ON r.move_id = m.id;

-- CompletionSet writes what looks at items found, one row per item, in one
-- statement; an item whose state changed gets an entry in its user's
-- timeline.
-- name: CompletionSet :exec
WITH changed AS (
    SELECT unnest(@move_ids::bigint[]) AS move_id, unnest(@kinds::text[]) AS kind, unnest(@states::text[]) AS state,
           unnest(@says::text[]) AS says, unnest(@evidence::text[]) AS evidence, unnest(@messages::text[]) AS message,
           unnest(@fixes::text[]) AS fix, unnest(@check_ats::timestamptz[]) AS check_at,
           unnest(@waits_for::text[]) AS waits_for
), prev AS (
    SELECT c.move_id, c.kind, c.state, c.says FROM completion_items c JOIN changed USING (move_id, kind)
), written AS (
    UPDATE completion_items c SET state = u.state, says = u.says, evidence = u.evidence, message = u.message, fix = u.fix,
                                  waits_for = u.waits_for, check_at = CASE WHEN u.state = 'pending' THEN u.check_at END, checks = c.checks + 1, updated_at = now()
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

-- CompletionActed records that cutover acted on a completion item (acted
-- says which step: for a number, 'cleared' on premises or 'assigned'
-- online), with an entry in its user's timeline saying it.
-- name: CompletionActed :exec
WITH acted AS (
    UPDATE completion_items c SET acted = @acted, acted_at = now(), updated_at = now()
    WHERE c.move_id = @move_id AND c.kind = @kind
    RETURNING c.move_id AS id
)
INSERT INTO move_events (move_id, state, message, actor)
SELECT m.id, m.state, 'completion: ' || @says::text, @actor FROM acted JOIN moves m ON m.id = acted.id;

-- CompletionReopen gives a wave's moved users' items that wait on a lead's
-- decision (waits_for) back to the completion job, due now, and says how
-- many it reopened.
-- name: CompletionReopen :one
WITH reopened AS (
    UPDATE completion_items c SET state = 'pending', waits_for = '', check_at = now(), fix = '', says = @says, updated_at = now()
    FROM moves m
    WHERE m.id = c.move_id AND m.wave_id = @wave_id AND m.state = 'moved' AND c.waits_for = @waits_for::text
    RETURNING c.move_id
)
SELECT count(*)::int AS reopened FROM reopened;

-- CompletionMeetingsRequest records a lead's request that Microsoft migrate
-- a moved user's meetings again: the item, failed or handed to a person
-- and never triggered before, is due now, with the request in the user's
-- timeline. It returns nothing when the item is not such an item.
-- name: CompletionMeetingsRequest :one
WITH requested AS (
    UPDATE completion_items c SET state = 'pending', waits_for = '', check_at = now(), fix = '', says = @says,
                                  acted = 'trigger_requested', acted_at = now(), updated_at = now()
    WHERE c.move_id = @move_id AND c.kind = 'meetings' AND c.state IN ('failed', 'person') AND c.acted = ''
    RETURNING c.move_id AS id
), ev AS (
    INSERT INTO move_events (move_id, state, message, actor)
    SELECT m.id, m.state, 'completion: ' || @says::text, @actor FROM requested JOIN moves m ON m.id = requested.id
)
SELECT count(*)::int AS requested FROM requested;
