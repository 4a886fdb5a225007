-- Two queries whose plans must not follow stale statistics.
--
-- store.AnalyzeAfterBulk refreshes the statistics of the tables a bulk
-- import or plan wrote; the next look is autovacuum's, a minute or more
-- later. Until then the planner sees every move of a new wave pending and
-- river_job as it was before the wave's jobs: its estimates are wrong by the
-- size of the wave, and on them two queries read rows in proportion to the
-- square of it. Each now runs in a function that rules out the plan that
-- fails.

-- Whether a wave has a move active, read through moves_wave_state_idx
-- whatever the planner's statistics say.
--
-- A move's end asks it when no other move of the wave holds a slot
-- (WaveWithActivity), to find a wave that may be complete. The statistics of
-- moves are those of the plan (store.AnalyzeAfterBulk) until autovacuum
-- looks again, a minute or more later: every move active. On them the
-- planner reads the wave's moves in order for the first active one, and
-- while the wave runs that is a read of every move it has ended. With a
-- shell that answers at once the question was asked at 6 of every 10 moves'
-- ends, and a wave of 20,000 read 26 million rows. The index holds the
-- wave's moves by state: the active ones are found at once.
CREATE OR REPLACE FUNCTION cutover_wave_has_active_move(p_wave bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM moves m WHERE m.wave_id = p_wave AND cutover_move_active(m.state));
END
$$;

-- The moves a move job should run, unchanged for p_quiet_seconds, that have
-- no River job of their run that will run them (store.MovesWithoutJob,
-- jobs/sweep.go): up to p_max_moves, in order.
--
-- The moves and the jobs are matched by hashing one side, whatever the
-- statistics say. On statistics taken before a wave's jobs were inserted
-- (river_job empty, every move pending) the planner took each side for one
-- row and read every job once per move: with 20,000 users queued, one sweep
-- read 200 million rows and took 57 s of a core, where the hash takes 35 ms.
CREATE OR REPLACE FUNCTION cutover_moves_without_job(p_quiet_seconds double precision, p_max_moves int)
RETURNS TABLE (move_id bigint, run int, max_attempts int)
LANGUAGE sql STABLE SET enable_nestloop = off AS $$
    SELECT m.id, m.run, w.max_attempts FROM moves m JOIN waves w ON w.id = m.wave_id
    WHERE cutover_move_has_job(m.state)
      AND m.updated_at < now() - make_interval(secs => p_quiet_seconds)
      AND NOT EXISTS (
          SELECT 1 FROM river_job j
          WHERE j.kind = 'move' AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
            AND (j.args->>'move_id')::bigint = m.id AND (j.args->>'run')::int = m.run)
    ORDER BY m.id LIMIT p_max_moves;
$$;
