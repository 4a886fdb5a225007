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
                   windows, time_zone, blackout_dates, retry_of, bypass_enterprise_voice_check, number_plan)
VALUES (@group_id, @number, @name, @size, @start_at, @max_attempts, @concurrency,
        nullif(@threshold_percent::double precision, 0), nullif(@threshold_count::int, 0), @min_sample, @rollback_on_halt,
        coalesce(@windows::text[], '{}'), coalesce(nullif(@time_zone::text, ''), 'UTC'),
        coalesce(CAST(@blackout_dates::text[] AS date[]), '{}'), sqlc.narg(retry_of), @bypass_enterprise_voice_check,
        coalesce(nullif(@number_plan::text, ''), 'on_premises'))
RETURNING *;

-- WaveTallies counts each wave's moves by state, and those that needed more
-- than one attempt.
-- name: WaveTallies :many
SELECT wave_id, state, count(*)::int AS moves, (count(*) FILTER (WHERE attempts > 1))::int AS retried,
       (count(*) FILTER (WHERE superseded_by IS NOT NULL))::int AS superseded
FROM moves WHERE wave_id = ANY(@wave_ids::bigint[]) GROUP BY 1, 2;

-- GroupShared reads, for each member of a group whose UPN is in another
-- group too, the state of their move in this group ('unplanned' if none)
-- and where they stand across every group (cutover_standing).
-- name: GroupShared :many
SELECT coalesce(mine.state, CASE WHEN gm.left_out THEN 'left_out' ELSE 'unplanned' END)::text AS in_group,
       coalesce(st.state, mine.state, CASE WHEN gm.left_out THEN 'left_out' ELSE 'unplanned' END)::text AS standing
FROM group_members gm
LEFT JOIN LATERAL (SELECT m.state FROM moves m WHERE m.member_id = gm.id AND m.superseded_by IS NULL) mine ON true
LEFT JOIN LATERAL cutover_standing(gm.upn) st ON true
WHERE gm.group_id = @group_id AND gm.shared;

-- WaveMembersUnplanned counts the members of a group not yet in a wave,
-- and not left out of the plan.
-- name: WaveMembersUnplanned :one
SELECT count(*)::int FROM group_members gm
WHERE gm.group_id = @group_id AND NOT gm.left_out AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id);

-- GroupUsersBusy names up to max_users members of a group, not yet in a
-- wave, that have an active move (in another group's wave).
-- name: GroupUsersBusy :many
SELECT m.upn, gm.display_name, m.state AS busy_state, w.name AS busy_wave, w.state AS busy_wave_state, g.name AS busy_group
FROM moves m JOIN waves w ON w.id = m.wave_id JOIN pilot_groups g ON g.id = w.group_id
JOIN group_members gm ON gm.upn = m.upn AND gm.group_id = @group_id
WHERE cutover_move_active(m.state) AND NOT gm.left_out AND NOT EXISTS (SELECT 1 FROM moves p WHERE p.member_id = gm.id)
ORDER BY m.upn LIMIT @max_users::int;

-- MovesPlanGroup plans a group's members not yet in a wave into the waves
-- wave_ids, in import order: the first up_to[0] into wave_ids[0], the next
-- up to up_to[1] (a running total) into wave_ids[1], and so on. Each wave's
-- moves share one timeline entry naming the wave, the group and its start.
-- name: MovesPlanGroup :exec
WITH b AS (
    INSERT INTO move_batches (wave_id, state, message, actor)
    SELECT w.id, 'pending',
           'planned into ' || w.name || ' of ' || g.name || ', starting ' ||
           to_char(w.start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
           @actor
    FROM waves w JOIN pilot_groups g ON g.id = w.group_id
    WHERE w.id = ANY(@wave_ids::bigint[])
    RETURNING id, wave_id
), bounds AS (
    SELECT unnest(@wave_ids::bigint[]) AS wave_id, unnest(@up_to::int[]) AS up_to
), u AS (
    SELECT gm.id, gm.upn, gm.sip, row_number() OVER (ORDER BY gm.position) AS n
    FROM group_members gm
    WHERE gm.group_id = @group_id AND NOT gm.left_out AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id)
)
INSERT INTO moves (wave_id, member_id, upn, sip, planned_by)
SELECT b.wave_id, u.id, u.upn, u.sip, b.id
FROM u
JOIN LATERAL (SELECT bo.wave_id FROM bounds bo WHERE u.n <= bo.up_to ORDER BY bo.up_to LIMIT 1) w ON true
JOIN b ON b.wave_id = w.wave_id;

-- MovesPlan adds a pending move to wave wave_id for each of member_ids,
-- sharing one timeline entry with message; each supersedes the member's
-- earlier moves in the group.
-- name: MovesPlan :exec
WITH b AS (
    INSERT INTO move_batches (wave_id, state, message, actor)
    VALUES (@wave_id, 'pending', @message, @actor)
    RETURNING id
), planned AS (
    INSERT INTO moves (wave_id, member_id, upn, sip, planned_by)
    SELECT @wave_id, gm.id, gm.upn, gm.sip, (SELECT id FROM b)
    FROM group_members gm WHERE gm.id = ANY(@member_ids::bigint[])
    RETURNING id, member_id
)
UPDATE moves m SET superseded_by = p.id
FROM planned p WHERE m.member_id = p.member_id AND m.superseded_by IS NULL;

-- WaveConfirmRouting records that a lead confirmed the SBC sends the wave's
-- numbers to Direct Routing (the first confirmation stands), and returns
-- the wave.
-- name: WaveConfirmRouting :one
UPDATE waves SET routing_confirmed_at = coalesce(routing_confirmed_at, now()),
                 routing_confirmed_by = CASE WHEN routing_confirmed_at IS NULL THEN @actor ELSE routing_confirmed_by END
WHERE id = @id RETURNING *;

-- WaveApproveNumbers records that a lead approved the wave's number moves
-- (the first approval stands), and returns the wave.
-- name: WaveApproveNumbers :one
UPDATE waves SET numbers_approved_at = coalesce(numbers_approved_at, now()),
                 numbers_approved_by = CASE WHEN numbers_approved_at IS NULL THEN @actor ELSE numbers_approved_by END
WHERE id = @id RETURNING *;
