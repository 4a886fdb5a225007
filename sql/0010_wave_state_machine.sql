-- The legal state changes of a wave, as migration.WaveChanges has them (a
-- test keeps the two equal). The trigger refuses any other change, as
-- moves_check_transition does for a move.
CREATE TABLE wave_state_transitions (
    from_state text NOT NULL,
    to_state   text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO wave_state_transitions (from_state, to_state) VALUES
    ('scheduled', 'running'), ('scheduled', 'paused'), ('scheduled', 'blocked'), ('scheduled', 'cancelled'),
    ('blocked', 'scheduled'), ('blocked', 'cancelled'),
    ('running', 'paused'), ('running', 'halted'), ('running', 'completed'), ('running', 'cancelled'),
    ('paused', 'running'), ('paused', 'scheduled'), ('paused', 'cancelled'),
    ('halted', 'running'), ('halted', 'cancelled'), ('halted', 'rolling_back'),
    ('completed', 'running'), ('completed', 'rolling_back'),
    ('cancelled', 'rolling_back'),
    ('rolling_back', 'rolled_back'),
    ('rolled_back', 'rolling_back');

CREATE FUNCTION waves_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state <> OLD.state AND NOT EXISTS (
        SELECT 1 FROM wave_state_transitions WHERE from_state = OLD.state AND to_state = NEW.state
    ) THEN
        RAISE EXCEPTION 'illegal wave state change % -> %', OLD.state, NEW.state
            USING ERRCODE = 'check_violation', CONSTRAINT = 'waves_state_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER waves_check_transition BEFORE UPDATE OF state ON waves
    FOR EACH ROW EXECUTE FUNCTION waves_check_transition();
