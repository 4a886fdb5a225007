-- scale: the move jobs ($1: their kind) each worker process completed (the
-- last in River's attempted_by, the process's River client ID), and how long
-- they took from the start of its first to the end of its last.
SELECT attempted_by[cardinality(attempted_by)] AS id, count(*)::int AS moves, max(finalized_at) - min(attempted_at) AS took
FROM river_job
WHERE kind = $1 AND state = 'completed'
GROUP BY 1
ORDER BY 1
