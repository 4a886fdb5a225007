-- throughput's floor: the moves of the wave $1, for their jobs.
SELECT id FROM moves WHERE wave_id = $1 ORDER BY id
