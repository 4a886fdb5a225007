-- live: when each move of the wave $1 ended, in order.
SELECT finished_at FROM moves WHERE wave_id = $1 AND finished_at IS NOT NULL ORDER BY finished_at
