-- enqueue's floor: the plan's batch of the wave $1.
INSERT INTO move_batches (wave_id, state, message, actor) VALUES ($1, 'pending', 'planned', 'floor') RETURNING id
