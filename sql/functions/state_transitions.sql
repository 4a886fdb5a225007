-- The legal state changes of a move (move_state_transitions) and of a wave
-- (wave_state_transitions), as internal/migration/state.go has them (a test
-- keeps the two equal). The triggers on moves and waves refuse any other.

-- A move's.
CREATE OR REPLACE FUNCTION moves_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state <> OLD.state AND NOT EXISTS (
        SELECT 1 FROM move_state_transitions WHERE from_state = OLD.state AND to_state = NEW.state
    ) THEN
        RAISE EXCEPTION 'illegal move state change % -> %', OLD.state, NEW.state
            USING ERRCODE = 'check_violation', CONSTRAINT = 'moves_state_transition';
    END IF;
    RETURN NEW;
END
$$;

-- A wave's.
CREATE OR REPLACE FUNCTION waves_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
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
