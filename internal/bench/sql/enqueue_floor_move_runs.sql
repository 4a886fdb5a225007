-- enqueue's floor: the moves of the wave $1 and their run, for their jobs.
SELECT id, run FROM moves WHERE wave_id = $1
