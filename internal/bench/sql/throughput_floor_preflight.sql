-- throughput's floor: a slot of the cap taken for the move $1 of the wave
-- $2 with its change to preflight and its event (without waiting for the
-- disk, as cutover takes it); nothing when no slot is free.
WITH c AS (SELECT set_config('synchronous_commit', 'off', true)),
s AS (UPDATE cap_slots SET move_id = $1, wave_id = $2, expires_at = now() + interval '5 s', holder = 'floor'
      WHERE n = (SELECT n FROM cap_slots, c WHERE move_id IS NULL ORDER BY n LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING n),
m AS (UPDATE moves SET state = 'preflight', attempts = 1, started_at = now(), updated_at = now() WHERE id = $1 AND EXISTS (SELECT 1 FROM s) RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, 'preflight', 1, 'pre-flight', 'floor' FROM m
