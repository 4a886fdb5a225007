-- scale: how many worker processes are alive (a heartbeat, not ended) and
-- have checked their host and found it ready.
SELECT count(*) FROM worker_processes p JOIN worker_hosts h USING (id) WHERE p.ended_at IS NULL AND h.ready
