-- A move's changes sent together in one round trip (an implicit
-- transaction) stop at the first that finds the move changed under it:
-- raising aborts the whole transaction, so none of them is half applied.
CREATE OR REPLACE FUNCTION cutover_expect_changed(n bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'the move was changed concurrently' USING ERRCODE = 'CT001';
    END IF;
    RETURN n;
END
$$;
