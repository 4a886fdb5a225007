-- scale: how many move jobs ($1: their kind) River has not yet finalized
-- (its completer writes a job's end a moment after the move's own).
SELECT count(*) FROM river_job WHERE kind = $1 AND finalized_at IS NULL
