-- enqueue's floor: the wave's start, every move of the wave $1 queued by the
-- batch $2, in one UPDATE.
UPDATE moves SET state = 'queued', run = run + 1, updated_at = now(), queued_by = $2 WHERE wave_id = $1 AND state = 'pending'
