-- memory: whether the wave $1 has completed (1) or not (0).
SELECT count(*) FROM waves WHERE id = $1 AND state = 'completed'
