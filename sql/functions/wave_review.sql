-- cutover_wave_threshold_counts reads the counts a wave's failure threshold
-- is judged on, of its moves started since the threshold counts from
-- (threshold_since): {failed for good, ended, started}. It reads them only
-- where they can change the review's answer, as
-- migration.ThresholdCountsNeeded says (a test holds the two together):
-- for a running wave under a threshold, after a move that failed for good
-- or a review without a move's end (p_all), or while the ended moves are
-- within the minimum sample plus the wave's concurrency (a move that did not
-- fail changes neither the failures nor the moves started, so past the
-- sample it cannot cross the threshold). Otherwise null: while a wave of
-- thousands runs, its moves' ends do not each count the whole wave.
CREATE OR REPLACE FUNCTION cutover_wave_threshold_counts(p_wave bigint, p_all boolean) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w waves;
    margin int;
    sampled bigint;
    counts bigint[];
BEGIN
    SELECT * INTO w FROM waves WHERE id = p_wave;
    IF NOT FOUND OR w.state <> 'running' OR (w.failure_threshold_percent IS NULL AND w.failure_threshold_count IS NULL) THEN
        RETURN NULL;
    END IF;
    IF NOT p_all THEN
        margin := w.failure_min_sample + w.concurrency;
        SELECT count(*) INTO sampled FROM (
            SELECT 1 FROM moves m
            WHERE m.wave_id = p_wave AND m.started_at IS NOT NULL AND cutover_move_ended(m.state)
              AND (w.threshold_since IS NULL OR m.started_at >= w.threshold_since OR m.finished_at >= w.threshold_since)
            LIMIT margin + 1) e;
        IF sampled > margin THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT ARRAY[count(*) FILTER (WHERE m.state = 'failed'), count(*) FILTER (WHERE cutover_move_ended(m.state)), count(*)]
    INTO counts
    FROM moves m
    WHERE m.wave_id = p_wave AND m.started_at IS NOT NULL
      AND (w.threshold_since IS NULL OR m.started_at >= w.threshold_since OR m.finished_at >= w.threshold_since);
    RETURN counts;
END
$$;
