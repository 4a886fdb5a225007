-- A move's timeline (move_events, sql/0001): appended to, never changed.
-- It is read through move_timeline (sql/0015), which adds the entries a
-- move shares with its wave (planned, queued at the wave's start).

-- name: MoveEvents :many
SELECT at, state, attempt, coalesce(error_code, '')::text AS error_code, message, actor
FROM move_timeline WHERE move_id = @move_id ORDER BY at, seq NULLS FIRST;

-- name: MoveEventCount :one
SELECT count(*) FROM move_timeline WHERE move_id = @move_id AND state = @state;

-- MoveRunErrors says when the move's current run (since it was last
-- queued) first failed with one of codes, and how often (no row: never).
-- name: MoveRunErrors :one
SELECT e.at AS first_at, count(*) OVER () AS errors FROM move_events e
WHERE e.move_id = @move_id AND e.error_code = ANY(@codes::text[])
  AND e.at > coalesce((SELECT max(q.at) FROM move_timeline q WHERE q.move_id = @move_id AND q.state = 'queued'), '-infinity')
ORDER BY e.id LIMIT 1;

-- MoveEventAdd appends an event to a move's timeline without changing the
-- move.
-- name: MoveEventAdd :exec
INSERT INTO move_events (move_id, state, attempt, error_code, message, actor)
SELECT m.id, m.state, @attempt, nullif(@error_code::text, ''), @message, @actor FROM moves m WHERE m.id = @move_id;
