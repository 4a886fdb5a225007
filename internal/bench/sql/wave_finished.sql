-- Whether the wave $1 has completed, and how long it took from its start
-- to its end.
SELECT state = 'completed', coalesce(finished_at - started_at, '0')::interval FROM waves WHERE id = $1
