-- throughput's floor: the move $1's change to the state $2 (verifying,
-- moved) with its event.
WITH m AS (UPDATE moves SET state = $2, finished_at = CASE WHEN $2 = 'moved' THEN now() END, updated_at = now() WHERE id = $1 RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, $2, 1, $2, 'floor' FROM m
