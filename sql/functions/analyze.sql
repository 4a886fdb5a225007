-- Refreshes the planner's statistics of tables after a bulk write
-- (store.AnalyzeAfterBulk).
CREATE OR REPLACE FUNCTION cutover_analyze(tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('ANALYZE %I', t);
    END LOOP;
END
$$;
