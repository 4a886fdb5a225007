-- How many of a wave's moves have reached an outcome ($2: the move states
-- that are one), for the progress of a phase that waits on the wave.
SELECT count(*) FROM moves WHERE wave_id = $1 AND state = ANY($2)
