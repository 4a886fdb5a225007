-- enqueue: how many move jobs the wave's start has queued.
SELECT count(*) FROM river_job WHERE kind = 'move'
