-- Changes of a wave's state and what they do to its moves. Every change of
-- a wave's state is one of migration.WaveChanges: from_states and to_state
-- come from it, and the database refuses any other (sql/0010).

-- WaveSetState sets the locked wave's state with the reason shown beside it.
-- name: WaveSetState :one
UPDATE waves SET state = @to_state::text, state_reason = @reason,
       started_at = CASE WHEN @to_state IN ('running', 'halted', 'completed') THEN coalesce(started_at, now()) ELSE started_at END,
       finished_at = CASE WHEN @to_state IN ('completed', 'cancelled', 'rolled_back') THEN now() ELSE NULL END
WHERE id = @wave_id RETURNING *;

-- WaveStart sets a wave running if it is in a state it may start from.
-- name: WaveStart :one
UPDATE waves SET state = @to_state::text, started_at = now(), state_reason = ''
WHERE id = @wave_id AND state = ANY(@from_states::text[]) RETURNING *;

-- MovesQueue queues a wave's pending moves for a worker and counts them.
-- Each shares the entry batch_id of its timeline. A move that points at a
-- queued entry already keeps it and gets an event of its own with the
-- entry's message (a wave starts once, so none does today: this keeps a
-- timeline whole if that changes).
-- name: MovesQueue :one
WITH q AS (
    UPDATE moves m SET state = 'queued', run = m.run + 1, updated_at = now(), queued_by = coalesce(m.queued_by, @batch_id::bigint)
    WHERE m.wave_id = @wave_id AND m.state = 'pending'
    RETURNING m.id, m.queued_by
), ev AS (
    INSERT INTO move_events (move_id, state, message, actor)
    SELECT q.id, 'queued', b.message, b.actor FROM q JOIN move_batches b ON b.id = @batch_id
    WHERE q.queued_by <> @batch_id
)
SELECT count(*)::int FROM q;

-- MovesQueuedList reads a wave's queued moves (store.MovesQueued reads it
-- through a cursor, a chunk at a time).
-- name: MovesQueuedList :many
SELECT id AS move_id, run FROM moves WHERE wave_id = @wave_id AND state = 'queued' ORDER BY id;

-- MoveBatchAdd writes a timeline entry that moves of a wave share.
-- name: MoveBatchAdd :one
INSERT INTO move_batches (wave_id, state, message, actor) VALUES (@wave_id, @state, @message, @actor) RETURNING id;

-- MovesCancel cancels a wave's moves that have not started (pending,
-- queued, waiting for a retry) with a code saying why, each with an event.
-- name: MovesCancel :execrows
WITH c AS (
    UPDATE moves SET state = 'cancelled', error_code = @error_code::text, error_message = @message, next_attempt_at = NULL,
                     finished_at = now(), updated_at = now()
    WHERE wave_id = @wave_id AND state IN ('pending', 'queued', 'retrying') RETURNING id, attempts
)
INSERT INTO move_events (move_id, state, attempt, error_code, message, actor)
SELECT id, 'cancelled', attempts, @error_code::text, @message, @actor FROM c;

-- MovesRequeueCancelled queues again a wave's moves that its halt
-- cancelled, unless their user has an active move elsewhere or was planned
-- again since.
-- name: MovesRequeueCancelled :many
WITH q AS (
    UPDATE moves m SET state = 'queued', run = run + 1, attempts = 0, error_code = NULL, error_message = NULL,
                       finished_at = NULL, updated_at = now(), teams_waiting_since = NULL
    WHERE m.wave_id = @wave_id AND m.state = 'cancelled' AND m.error_code = 'wave_halted'
      AND NOT EXISTS (SELECT 1 FROM moves o WHERE o.upn = m.upn AND o.id <> m.id
                      AND (o.id > m.id OR cutover_move_active(o.state)))
    RETURNING m.id, m.run
), ev AS (
    INSERT INTO move_events (move_id, state, message, actor) SELECT id, 'queued', @message, @actor FROM q
)
SELECT id AS move_id, run FROM q ORDER BY id;

-- WaveComplete completes a running wave none of whose moves is active.
-- name: WaveComplete :execrows
UPDATE waves w SET state = @to_state::text, finished_at = now(), state_reason = ''
WHERE w.id = @wave_id AND w.state = ANY(@from_states::text[])
  AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.wave_id = @wave_id AND cutover_move_active(m.state));

-- WaveReviewFacts reads what a wave's review judges (migration.WaveFacts),
-- after the end of its move move_id (0: no move's end): the wave; whether
-- another of its moves is active, so that the wave cannot be complete (a
-- live slot of an active move answers first, cheaply; a slot held by a move
-- that has ended does not count: such a move holds it only through its own
-- review, made after its end has committed, so two moves ending at once that
-- both hold their slots would each see the other's and neither would
-- complete the wave); and the threshold's counts where they can change the
-- answer (cutover_wave_threshold_counts), else null.
-- name: WaveReviewFacts :one
SELECT sqlc.embed(w),
       (EXISTS (SELECT 1 FROM wave_slots s JOIN moves m ON m.id = s.move_id
                WHERE s.wave_id = w.id AND s.move_id <> @move_id::bigint AND s.expires_at >= now() AND cutover_move_active(m.state))
        OR cutover_wave_has_active_move(w.id))::boolean AS active,
       cutover_wave_threshold_counts(w.id, @count_all::boolean)::bigint[] AS counts
FROM waves w WHERE w.id = @wave_id;

-- WavesToReview reads the waves whose state a move's end may still change:
-- running ones, and halted ones that roll back what they moved and have a
-- user moved.
-- name: WavesToReview :many
SELECT id FROM waves w WHERE state = 'running'
   OR (state = 'halted' AND rollback_on_halt AND EXISTS (SELECT 1 FROM moves m WHERE m.wave_id = w.id AND m.state = 'moved'))
ORDER BY id;

-- WavesBlockAfter blocks the group's waves after number that may be blocked.
-- name: WavesBlockAfter :many
UPDATE waves SET state = @to_state::text, state_reason = @reason
WHERE group_id = @group_id AND number > @number AND state = ANY(@from_states::text[])
RETURNING *;

-- WaveHaltedBefore names the first halted wave of the group before number.
-- name: WaveHaltedBefore :one
SELECT name FROM waves WHERE group_id = @group_id AND number < @number AND state = 'halted' ORDER BY number LIMIT 1;

-- WavesUnblock returns the group's blocked waves to scheduled unless an
-- earlier wave is still halted.
-- name: WavesUnblock :many
UPDATE waves w SET state = @to_state::text, state_reason = '', schedule_rev = schedule_rev + 1
WHERE w.group_id = @group_id AND w.state = ANY(@from_states::text[])
  AND NOT EXISTS (SELECT 1 FROM waves h WHERE h.group_id = @group_id AND h.number < w.number AND h.state = 'halted')
RETURNING *;

-- name: WaveLimitLock :one
SELECT concurrency_limit, limit_lowered_at FROM waves WHERE id = @wave_id FOR NO KEY UPDATE;

-- name: WaveLimitLower :exec
UPDATE waves SET concurrency_limit = @concurrency_limit, limit_successes = 0, limit_lowered_at = now() WHERE id = @wave_id;

-- name: WaveLimitSuccess :exec
UPDATE waves SET concurrency_limit = @concurrency_limit, limit_successes = @limit_successes WHERE id = @wave_id;

-- MovesRollBack sets a wave's moved users (and failed rollbacks) rolling
-- back, each with an event, with the run of their rollback.
-- name: MovesRollBack :many
WITH r AS (
    UPDATE moves SET state = 'rolling_back', error_code = NULL, error_message = NULL, finished_at = NULL, updated_at = now()
    WHERE wave_id = @wave_id AND state IN ('moved', 'rollback_failed') RETURNING id, attempts
), ev AS (
    INSERT INTO move_events (move_id, state, attempt, message, actor)
    SELECT id, 'rolling_back', attempts, @message, @actor FROM r
)
SELECT r.id AS move_id, ((SELECT count(*) FROM move_events e WHERE e.move_id = r.id AND e.state = 'rolling_back') + 1)::int AS run,
       (SELECT w.max_attempts FROM waves w WHERE w.id = @wave_id)::int AS max_attempts
FROM r ORDER BY r.id;

-- name: WaveRollbackCounts :one
SELECT count(*) FILTER (WHERE state = 'rolling_back') AS rolling, count(*) FILTER (WHERE state = 'rolled_back') AS rolled_back,
       count(*) FILTER (WHERE state = 'rollback_failed') AS failed
FROM moves WHERE wave_id = @wave_id;

-- WaveToRetry reads the members of a wave to move again: with member_ids
-- empty, its failed members; else those of member_ids whose move in the
-- wave failed, was rolled back or was cancelled. Each only if that move is
-- where they stand now (cutover_standing): no later move of theirs, in this
-- group or another, stands in for it.
-- name: WaveToRetry :many
SELECT m.member_id FROM moves m
WHERE m.wave_id = @wave_id AND m.superseded_by IS NULL
  AND CASE WHEN coalesce(cardinality(@member_ids::bigint[]), 0) = 0 THEN m.state = 'failed'
           ELSE m.member_id = ANY(@member_ids::bigint[]) AND m.state IN ('failed', 'rolled_back', 'cancelled') END
  AND (SELECT s.move_id FROM cutover_standing(m.upn) s) = m.id
ORDER BY m.id;

-- WaveMemberToAdd finds a member of the group by UPN or SIP address, with
-- their move in the group that no later one supersedes (if any) and an
-- active move of theirs in another group (if any).
-- name: WaveMemberToAdd :one
SELECT gm.id, gm.display_name, coalesce(mine.state, '')::text AS state, coalesce(mine.wave_name, '')::text AS wave_name,
       coalesce(mine.move_id, 0)::bigint AS move_id, coalesce(busy.state, '')::text AS busy_state, coalesce(busy.wave_name, '')::text AS busy_wave,
       coalesce(busy.wave_state, '')::text AS busy_wave_state, coalesce(busy.group_name, '')::text AS busy_group
FROM group_members gm
LEFT JOIN LATERAL (
    SELECT m.id AS move_id, m.state, w.name AS wave_name FROM moves m JOIN waves w ON w.id = m.wave_id
    WHERE m.member_id = gm.id AND m.superseded_by IS NULL
) mine ON true
LEFT JOIN LATERAL (
    SELECT o.state, ow.name AS wave_name, ow.state AS wave_state, og.name AS group_name
    FROM moves o JOIN waves ow ON ow.id = o.wave_id JOIN pilot_groups og ON og.id = ow.group_id
    WHERE o.upn = gm.upn AND o.member_id <> gm.id AND cutover_move_active(o.state)
) busy ON true
WHERE gm.group_id = @group_id AND (gm.upn = @identity OR gm.sip = @identity);

-- name: WaveMoveToRemove :one
SELECT id FROM moves WHERE wave_id = @wave_id AND (upn = @identity OR sip = @identity) AND state = 'pending';

-- MovesRevive gives a user removed from a wave and added back their move
-- back: it supersedes their other moves in the group again.
-- name: MovesRevive :many
WITH back AS (
    UPDATE moves r SET state = 'pending', error_code = NULL, error_message = NULL, finished_at = NULL, updated_at = now(),
                       superseded_by = NULL
    WHERE r.wave_id = @wave_id AND r.member_id = ANY(@member_ids::bigint[]) AND r.state = 'cancelled' RETURNING r.id, r.member_id
), ev AS (
    INSERT INTO move_events (move_id, state, message, actor) SELECT id, 'pending', @message, @actor FROM back
), others AS (
    UPDATE moves o SET superseded_by = back.id FROM back
    WHERE o.member_id = back.member_id AND o.id <> back.id AND (o.superseded_by IS NULL OR o.superseded_by <> back.id)
)
SELECT member_id FROM back;

-- name: MovesRemove :exec
WITH c AS (
    UPDATE moves SET state = 'cancelled', error_code = 'removed_from_wave',
                     error_message = 'removed from the wave by a migration lead', finished_at = now(), updated_at = now()
    WHERE id = ANY(@move_ids::bigint[]) RETURNING id
)
INSERT INTO move_events (move_id, state, error_code, message, actor)
SELECT id, 'cancelled', 'removed_from_wave', @message, @actor FROM c;

-- name: WaveResize :one
UPDATE waves SET size = @size WHERE id = @wave_id RETURNING *;

-- name: WaveReschedule :one
UPDATE waves SET start_at = @start_at, schedule_rev = schedule_rev + 1 WHERE id = @wave_id RETURNING *;

-- name: WaveThresholdRestart :exec
UPDATE waves SET threshold_since = now() WHERE id = @wave_id;

-- name: WaveGateOverride :one
UPDATE waves SET gate_override = true, schedule_rev = schedule_rev + 1 WHERE id = @wave_id RETURNING *;

-- name: WaveReadinessOverride :one
UPDATE waves SET readiness_override = true, schedule_rev = schedule_rev + 1 WHERE id = @wave_id RETURNING *;

-- WaveReason sets the reason shown beside a wave's state, if the wave is
-- still in that state.
-- name: WaveReason :exec
UPDATE waves SET state_reason = @reason, state_reason_code = @code WHERE id = @wave_id AND state = @state;

-- WaveUsersBusy names up to max_users users of a wave whose move there is
-- in one of states and who have an active move in another wave: that
-- move's state, wave and group.
-- name: WaveUsersBusy :many
SELECT m.upn, gm.display_name, o.state AS busy_state, ow.name AS busy_wave, ow.state AS busy_wave_state, og.name AS busy_group
FROM moves m
JOIN group_members gm ON gm.id = m.member_id
JOIN moves o ON o.upn = m.upn AND o.id <> m.id AND cutover_move_active(o.state)
JOIN waves ow ON ow.id = o.wave_id
JOIN pilot_groups og ON og.id = ow.group_id
WHERE m.wave_id = @wave_id AND m.state = ANY(@states::text[])
ORDER BY m.upn
LIMIT @max_users::int;
