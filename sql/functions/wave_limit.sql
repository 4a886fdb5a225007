-- A new wave's limit starts at its concurrency; a change of concurrency
-- keeps the limit within it.
CREATE OR REPLACE FUNCTION waves_limit_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.concurrency_limit IS NULL THEN
        NEW.concurrency_limit := NEW.concurrency;
    END IF;
    NEW.concurrency_limit := least(NEW.concurrency_limit, NEW.concurrency);
    RETURN NEW;
END
$$;
