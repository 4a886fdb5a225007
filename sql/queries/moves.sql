-- Moves: a user's move in a wave (sql/0001), read as the domain reads it
-- through move_details (sql/0011).

-- name: MoveGet :one
SELECT * FROM move_details WHERE id = @id;

-- name: MoveWithWave :one
SELECT sqlc.embed(d), sqlc.embed(w) FROM move_details d JOIN waves w ON w.id = d.wave_id WHERE d.id = @id;

-- MovesByUser reads the moves of a user by UPN or SIP address, newest first.
-- name: MovesByUser :many
SELECT * FROM move_details WHERE upn = @identity OR sip = @identity ORDER BY id DESC;

-- WaveMovesOf reads the moves of a wave of the users with these UPNs or SIP
-- addresses.
-- name: WaveMovesOf :many
SELECT * FROM move_details WHERE wave_id = @wave_id AND (upn = ANY(@identities::text[]) OR sip = ANY(@identities::text[]));

-- MoveList reads a wave's moves, all or in one state, in plan order.
-- name: MoveList :many
SELECT * FROM move_details WHERE wave_id = @wave_id AND (@state::text = '' OR state = @state) ORDER BY position;

-- MoveChange is the statement of a change of a move's state, in one round
-- trip:
--   - with lease, it first takes a slot of the wave's and the deployment's
--     cap (cutover_lease_acquire, which commits without waiting for the WAL
--     flush) and changes the move only if it got one;
--   - with a slot holder, it changes the move only while that process holds
--     the move's slot, unexpired;
--   - with capture, it keeps the user's on-premises state as the move's
--     rollback record, unless an earlier attempt kept it, and the event says
--     which;
--   - the move changes only from from_states, and the event is appended;
--   - it answers the lease and how many moves changed (0 or 1); with
--     expect, 0 raises CT001 instead, so that changes sent together stop
--     at the first that finds the move changed under it.
-- name: MoveChange :one
WITH lease AS MATERIALIZED (
    SELECT l.ok, l.wave_state, l.at, l.wave_full
    FROM cutover_lease_acquire(@lease_wave_id::bigint, @move_id::bigint, @lease_ttl_seconds::double precision,
                               @lease_any_state::boolean, @lease_holder::text) l
    WHERE @lease::boolean
), rec AS (
    INSERT INTO rollback_records (move_id, sip_address, registrar_pool, hosting_provider,
                                  enterprise_voice_enabled, line_uri, policies, captured_at)
    SELECT @move_id, @capture_sip::text, @capture_pool::text, @capture_provider::text,
           @capture_voice::boolean, @capture_line_uri::text, @capture_policies::jsonb, now()
    WHERE @capture::boolean
      AND EXISTS (SELECT 1 FROM moves WHERE id = @move_id AND state = ANY(@from_states::text[]))
      AND (@slot_holder::text = '' OR EXISTS (SELECT 1 FROM cap_slots WHERE move_id = @move_id AND holder = @slot_holder AND expires_at > now()))
    ON CONFLICT (move_id) DO NOTHING RETURNING move_id
), changed AS (
    UPDATE moves SET
        state = @to_state::text,
        attempts = CASE WHEN @attempt::int > 0 THEN @attempt ELSE attempts END,
        error_code = nullif(@error_code::text, ''),
        error_message = nullif(@error_message::text, ''),
        next_attempt_at = sqlc.narg(next_attempt_at)::timestamptz,
        move_issued_at = CASE WHEN @move_issued::boolean THEN coalesce(move_issued_at, now()) ELSE move_issued_at END,
        started_at = CASE WHEN @to_state = 'preflight' THEN coalesce(started_at, now()) ELSE started_at END,
        finished_at = CASE WHEN cutover_move_active(@to_state) THEN NULL ELSE now() END,
        updated_at = now()
    WHERE id = @move_id AND state = ANY(@from_states::text[])
      AND (@slot_holder::text = '' OR EXISTS (SELECT 1 FROM cap_slots WHERE move_id = @move_id AND holder = @slot_holder AND expires_at > now()))
      AND (NOT @lease::boolean OR (SELECT ok FROM lease))
    RETURNING id, attempts
), ev AS (
    INSERT INTO move_events (move_id, state, attempt, error_code, message, actor)
    SELECT id, @to_state, attempts, nullif(@error_code::text, ''),
           CASE WHEN NOT @capture::boolean THEN @message::text
                WHEN EXISTS (SELECT 1 FROM rec) THEN 'rollback record captured (registrar pool ' || @capture_pool::text || '); ' || @message::text
                ELSE 'rollback record kept from an earlier attempt; ' || @message::text END,
           @actor::text
    FROM changed
), n AS (
    SELECT count(*) AS changed FROM changed
)
SELECT coalesce(lease.ok, false)::boolean AS lease_ok, coalesce(lease.wave_state, '')::text AS wave_state,
       coalesce(lease.at, now())::timestamptz AS lease_at, coalesce(lease.wave_full, false)::boolean AS wave_full,
       CASE WHEN @expect::boolean THEN cutover_expect_changed(n.changed) ELSE n.changed END::bigint AS changed,
       (@lease::boolean AND lease.wave_state IS NULL)::boolean AS wave_missing
FROM n LEFT JOIN lease ON true;

-- BatchBegin and BatchCommit open and commit a transaction inside one
-- batch, so that statements queued after the commit read what it
-- committed, in the same round trip (see MoveEnd).
-- name: BatchBegin :exec
BEGIN;

-- name: BatchCommit :exec
COMMIT;

-- MoveWaitNote records when a move waiting in its state is looked at next,
-- appending the event only when the wait begins (no next attempt was set),
-- so that a long wait is one line in the timeline.
-- name: MoveWaitNote :exec
WITH prev AS (SELECT p.id, p.next_attempt_at FROM moves p WHERE p.id = @move_id FOR NO KEY UPDATE),
upd AS (UPDATE moves u SET next_attempt_at = @next_attempt_at, updated_at = now(),
                           teams_waiting_since = CASE WHEN @teams_waiting::boolean THEN coalesce(u.teams_waiting_since, now())
                                                      ELSE u.teams_waiting_since END
        WHERE u.id = @move_id)
INSERT INTO move_events (move_id, state, attempt, message, actor)
SELECT m.id, m.state, @attempt, @message, @actor FROM moves m JOIN prev ON prev.id = m.id
WHERE prev.next_attempt_at IS NULL;

-- MoveTeamsWaitingSince says when Teams first answered, in the move's run,
-- that the moved user is not a Teams user yet (NULL: not yet).
-- name: MoveTeamsWaitingSince :one
SELECT teams_waiting_since FROM moves WHERE id = @move_id;

-- MoveRequeue queues a failed move again (a lead's retry): a new run, its
-- attempts counted from zero, and its wave running again until it ends.
-- name: MoveRequeue :execrows
WITH q AS (
    UPDATE moves m SET state = 'queued', run = run + 1, attempts = 0, error_code = NULL, error_message = NULL,
                       next_attempt_at = NULL, finished_at = NULL, updated_at = now(), teams_waiting_since = NULL
    WHERE m.id = @move_id AND m.state = 'failed' RETURNING m.id, m.wave_id
), reopened AS (
    UPDATE waves w SET state = @wave_to::text, finished_at = NULL
    WHERE w.id = (SELECT q.wave_id FROM q) AND w.state = ANY(@wave_from::text[])
)
INSERT INTO move_events (move_id, state, message, actor)
SELECT id, 'queued', 'retry requested; queued for a worker', @actor FROM q;

-- MovesWithoutJob reads up to max_moves moves that a move job should run,
-- unchanged for quiet_seconds, that have no River move job of their run that
-- will run them (River discarded it, or it was deleted): see
-- cutover_moves_without_job (sql/0016).
-- name: MovesWithoutJob :many
SELECT f.move_id::bigint AS move_id, f.run::int AS run, f.max_attempts::int AS max_attempts
FROM cutover_moves_without_job(@quiet_seconds::double precision, @max_moves::int) AS f(move_id, run, max_attempts);

-- name: MoveWaves :many
SELECT wave_id, count(*) AS moves FROM moves WHERE id = ANY(@ids::bigint[]) GROUP BY wave_id;

-- The users of every pilot group whose latest move has not moved them (or
-- found them online already).
-- name: UsersToMove :one
SELECT count(DISTINCT gm.upn) FROM group_members gm
WHERE NOT EXISTS (SELECT 1 FROM moves m WHERE m.upn = gm.upn AND m.state IN ('moved', 'skipped'));

-- MovePace is the median time a move took, from its start to its end, over
-- the moves that ended moved in the last week, and how many they were.
-- name: MovePace :one
SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)), 0)::float8 AS seconds,
       count(*)::int AS moves
FROM moves WHERE state = 'moved' AND started_at IS NOT NULL AND finished_at > now() - interval '7 days';
