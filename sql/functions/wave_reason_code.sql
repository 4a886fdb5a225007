-- waves_reason_code clears a wave's state_reason_code when an update
-- changes its state or its reason without setting the code: the code
-- always speaks of the reason beside it.
CREATE OR REPLACE FUNCTION waves_reason_code() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.state IS DISTINCT FROM OLD.state OR NEW.state_reason IS DISTINCT FROM OLD.state_reason)
       AND NEW.state_reason_code IS NOT DISTINCT FROM OLD.state_reason_code THEN
        NEW.state_reason_code := '';
    END IF;
    RETURN NEW;
END
$$;

-- The trigger is here rather than in a migration: its function is defined
-- after the migrations run.
CREATE OR REPLACE TRIGGER waves_reason_code BEFORE UPDATE ON waves
    FOR EACH ROW EXECUTE FUNCTION waves_reason_code();
