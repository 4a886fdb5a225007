-- Pilot groups, waves, moves, their timeline and rollback records.

CREATE TABLE pilot_groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    source      text        NOT NULL CHECK (source IN ('csv', 'json', 'entra')),
    created_by  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pilot_groups_name_key UNIQUE (name)
);

CREATE TABLE group_members (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id     bigint NOT NULL REFERENCES pilot_groups (id),
    position     int    NOT NULL CHECK (position >= 1),
    upn          text   NOT NULL CHECK (upn = lower(upn) AND upn LIKE '%_@_%'),
    sip          text   NOT NULL CHECK (sip = lower(sip) AND sip LIKE '%_@_%'),
    display_name text   NOT NULL DEFAULT '',
    CONSTRAINT group_members_upn_key UNIQUE (group_id, upn),
    CONSTRAINT group_members_sip_key UNIQUE (group_id, sip),
    CONSTRAINT group_members_position_key UNIQUE (group_id, position)
);
CREATE INDEX group_members_upn_idx ON group_members (upn);
CREATE INDEX group_members_sip_idx ON group_members (sip);

CREATE TABLE waves (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id     bigint      NOT NULL REFERENCES pilot_groups (id),
    number       int         NOT NULL CHECK (number >= 1),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    state        text        NOT NULL DEFAULT 'scheduled'
                             CHECK (state IN ('scheduled', 'running', 'completed', 'cancelled')),
    size         int         NOT NULL CHECK (size >= 1),
    start_at     timestamptz NOT NULL,
    max_attempts int         NOT NULL CHECK (max_attempts BETWEEN 1 AND 25),
    concurrency  int         NOT NULL CHECK (concurrency BETWEEN 1 AND 1000),
    started_at   timestamptz,
    finished_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waves_number_key UNIQUE (group_id, number),
    CONSTRAINT waves_started_check CHECK (state = 'scheduled' OR state = 'cancelled' OR started_at IS NOT NULL),
    CONSTRAINT waves_finished_check CHECK ((state IN ('completed', 'cancelled')) = (finished_at IS NOT NULL))
);

CREATE TABLE moves (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id         bigint      NOT NULL REFERENCES waves (id),
    member_id       bigint      NOT NULL REFERENCES group_members (id),
    upn             text        NOT NULL,
    sip             text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'queued', 'preflight', 'moving', 'verifying',
                                                 'retrying', 'moved', 'skipped', 'failed', 'cancelled',
                                                 'rolling_back', 'rolled_back', 'rollback_failed')),
    -- run counts the times the move was (re)queued: 1 at wave start, +1 per retry by a lead.
    run             int         NOT NULL DEFAULT 0 CHECK (run >= 0),
    attempts        int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    error_code      text,
    error_message   text,
    next_attempt_at timestamptz,
    move_issued_at  timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT moves_member_key UNIQUE (member_id, wave_id),
    CONSTRAINT moves_failed_has_code CHECK (state <> 'failed' OR error_code IS NOT NULL)
);
-- A user has at most one active move, across all groups.
CREATE UNIQUE INDEX moves_one_active_per_upn ON moves (upn)
    WHERE state IN ('pending', 'queued', 'preflight', 'moving', 'verifying', 'retrying', 'rolling_back');
CREATE INDEX moves_wave_state_idx ON moves (wave_id, state);
CREATE INDEX moves_upn_idx ON moves (upn);
CREATE INDEX moves_sip_idx ON moves (sip);

-- The legal state changes of a move. The trigger below refuses any other.
CREATE TABLE move_state_transitions (
    from_state text NOT NULL,
    to_state   text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO move_state_transitions (from_state, to_state) VALUES
    ('pending', 'queued'), ('pending', 'cancelled'),
    ('queued', 'preflight'), ('queued', 'cancelled'),
    ('retrying', 'preflight'), ('retrying', 'cancelled'),
    ('preflight', 'moving'), ('preflight', 'skipped'), ('preflight', 'failed'), ('preflight', 'retrying'),
    ('preflight', 'verifying'),
    ('moving', 'verifying'), ('moving', 'failed'), ('moving', 'retrying'), ('moving', 'preflight'),
    ('verifying', 'moved'), ('verifying', 'failed'), ('verifying', 'retrying'), ('verifying', 'preflight'),
    ('failed', 'queued'),
    ('moved', 'rolling_back'),
    ('rolling_back', 'rolled_back'), ('rolling_back', 'rollback_failed'),
    ('rollback_failed', 'rolling_back');

CREATE FUNCTION moves_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER moves_check_transition BEFORE UPDATE OF state ON moves
    FOR EACH ROW EXECUTE FUNCTION moves_check_transition();

-- The timeline of a move: append-only.
CREATE TABLE move_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    move_id    bigint      NOT NULL REFERENCES moves (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    state      text        NOT NULL,
    attempt    int         NOT NULL DEFAULT 0,
    error_code text,
    message    text        NOT NULL,
    actor      text        NOT NULL
);
CREATE INDEX move_events_move_idx ON move_events (move_id, id);

CREATE FUNCTION move_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'move_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER move_events_append_only BEFORE UPDATE OR DELETE ON move_events
    FOR EACH ROW EXECUTE FUNCTION move_events_append_only();
CREATE TRIGGER move_events_no_truncate BEFORE TRUNCATE ON move_events
    FOR EACH STATEMENT EXECUTE FUNCTION move_events_append_only();

-- The user's on-premises state, captured once, before the move.
CREATE TABLE rollback_records (
    move_id                  bigint      PRIMARY KEY REFERENCES moves (id),
    sip_address              text        NOT NULL,
    registrar_pool           text        NOT NULL CHECK (registrar_pool <> ''),
    hosting_provider         text        NOT NULL,
    enterprise_voice_enabled boolean     NOT NULL,
    line_uri                 text        NOT NULL DEFAULT '',
    policies                 jsonb       NOT NULL DEFAULT '{}',
    captured_at              timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Moves in flight, one lease each, to hold a wave to its concurrency. A lease
-- whose worker died expires by itself.
CREATE TABLE move_leases (
    move_id    bigint      PRIMARY KEY REFERENCES moves (id),
    wave_id    bigint      NOT NULL REFERENCES waves (id),
    expires_at timestamptz NOT NULL
);
CREATE INDEX move_leases_wave_idx ON move_leases (wave_id, expires_at);
