-- Waves: a group's users moved together from a start time (sql/0001,
-- sql/0003). Their state changes are in wave_changes.sql.

-- name: WaveGet :one
SELECT * FROM waves WHERE id = @id;

-- name: WaveLock :one
SELECT * FROM waves WHERE id = @id FOR NO KEY UPDATE;

-- name: WaveList :many
SELECT * FROM waves WHERE group_id = @group_id ORDER BY number;

-- name: WavesRunning :many
SELECT * FROM waves WHERE state = 'running' ORDER BY id;

-- name: WaveNextNumber :one
SELECT (coalesce(max(number), 0) + 1)::int AS next FROM waves WHERE group_id = @group_id;

-- name: WaveInsert :one
INSERT INTO waves (group_id, number, name, size, start_at, max_attempts, concurrency,
                   failure_threshold_percent, failure_threshold_count, failure_min_sample, rollback_on_halt,
                   windows, time_zone, blackout_dates, retry_of, bypass_enterprise_voice_check)
VALUES (@group_id, @number, @name, @size, @start_at, @max_attempts, @concurrency,
        nullif(@threshold_percent::double precision, 0), nullif(@threshold_count::int, 0), @min_sample, @rollback_on_halt,
        coalesce(@windows::text[], '{}'), coalesce(nullif(@time_zone::text, ''), 'UTC'),
        coalesce(CAST(@blackout_dates::text[] AS date[]), '{}'), sqlc.narg(retry_of), @bypass_enterprise_voice_check)
RETURNING *;

-- WaveTallies counts each wave's moves by state, and those that needed more
-- than one attempt.
-- name: WaveTallies :many
SELECT wave_id, state, count(*)::int AS moves, (count(*) FILTER (WHERE attempts > 1))::int AS retried
FROM moves WHERE wave_id = ANY(@wave_ids::bigint[]) GROUP BY 1, 2;

-- WaveMembersUnplanned reads the members of a group not yet in a wave, in
-- import order.
-- name: WaveMembersUnplanned :many
SELECT gm.id, gm.upn FROM group_members gm
WHERE gm.group_id = @group_id AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id)
ORDER BY gm.position;

-- UsersBusy names up to max_users users among upns that have an active move.
-- name: UsersBusy :many
SELECT (m.upn || ' is in ' || w.name || ' of pilot group ' || g.name || ' (' || m.state || ')')::text AS busy
FROM moves m JOIN waves w ON w.id = m.wave_id JOIN pilot_groups g ON g.id = w.group_id
WHERE m.upn = ANY(@upns::text[]) AND cutover_move_active(m.state)
ORDER BY m.upn LIMIT @max_users::int;

-- MovesPlan adds a pending move for each member to its wave (member_ids[i]
-- into wave_ids[i]), each with an event: message, or else one naming the
-- wave, the group and its start.
-- name: MovesPlan :exec
WITH planned AS (
    INSERT INTO moves (wave_id, member_id, upn, sip)
    SELECT p.wave_id, gm.id, gm.upn, gm.sip
    FROM (SELECT unnest(@member_ids::bigint[]) AS member_id, unnest(@wave_ids::bigint[]) AS wave_id) p
    JOIN group_members gm ON gm.id = p.member_id
    RETURNING id, wave_id
)
INSERT INTO move_events (move_id, state, message, actor)
SELECT p.id, 'pending',
       coalesce(nullif(@message::text, ''),
                'planned into ' || w.name || ' of ' || g.name || ', starting ' ||
                to_char(w.start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'),
       @actor
FROM planned p JOIN waves w ON w.id = p.wave_id JOIN pilot_groups g ON g.id = w.group_id;
