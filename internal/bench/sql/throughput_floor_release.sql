-- throughput's floor: the move $1's slot of the cap freed with its outcome.
UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = $1
