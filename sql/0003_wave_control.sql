-- Wave control: the deployment's cap on moves in flight, adaptive
-- concurrency, failure thresholds and halts, pauses, maintenance windows,
-- the wave timeline and webhook notifications.

-- One row: settings every worker process obeys. Lease takers lock it, so
-- that the cap holds across processes.
CREATE TABLE deployment_settings (
    id            boolean     PRIMARY KEY DEFAULT true CHECK (id),
    max_in_flight int         NOT NULL DEFAULT 25 CHECK (max_in_flight BETWEEN 1 AND 10000),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text        NOT NULL DEFAULT ''
);
INSERT INTO deployment_settings DEFAULT VALUES;

ALTER TABLE waves DROP CONSTRAINT waves_state_check;
ALTER TABLE waves DROP CONSTRAINT waves_started_check;
ALTER TABLE waves DROP CONSTRAINT waves_finished_check;
ALTER TABLE waves
    ADD CONSTRAINT waves_state_check CHECK (state IN ('scheduled', 'blocked', 'running', 'paused', 'halted',
                                                      'completed', 'cancelled', 'rolling_back', 'rolled_back')),
    ADD CONSTRAINT waves_started_check CHECK (state NOT IN ('running', 'halted', 'completed') OR started_at IS NOT NULL),
    ADD CONSTRAINT waves_finished_check CHECK ((state IN ('completed', 'cancelled', 'rolled_back')) = (finished_at IS NOT NULL)),
    -- Why the wave is paused, halted or blocked, in words.
    ADD COLUMN state_reason text NOT NULL DEFAULT '',
    -- Adaptive concurrency: the limit on moves in flight now (at most
    -- concurrency), the successes since it last changed, and when it was
    -- last lowered (failures of moves started before then do not lower it
    -- again).
    ADD COLUMN concurrency_limit int,
    ADD COLUMN limit_successes int NOT NULL DEFAULT 0,
    ADD COLUMN limit_lowered_at timestamptz,
    -- The failure gate.
    ADD COLUMN failure_threshold_percent double precision CHECK (failure_threshold_percent > 0 AND failure_threshold_percent <= 100),
    ADD COLUMN failure_threshold_count int CHECK (failure_threshold_count >= 1),
    ADD COLUMN failure_min_sample int NOT NULL DEFAULT 20 CHECK (failure_min_sample >= 1),
    -- Failures before this (a lead resumed the halted wave) no longer count.
    ADD COLUMN threshold_since timestamptz,
    ADD COLUMN rollback_on_halt boolean NOT NULL DEFAULT false,
    -- Maintenance windows ("mon-fri 22:00-05:00") in time_zone, and dates
    -- on which no move starts. No windows: any time.
    ADD COLUMN windows text[] NOT NULL DEFAULT '{}',
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN blackout_dates date[] NOT NULL DEFAULT '{}',
    -- A lead let the wave start although an earlier wave is halted.
    ADD COLUMN gate_override boolean NOT NULL DEFAULT false,
    -- Bumped by each reschedule, so that an earlier start job does nothing.
    ADD COLUMN schedule_rev int NOT NULL DEFAULT 0,
    -- The wave whose failed users this wave retries.
    ADD COLUMN retry_of bigint REFERENCES waves (id);
UPDATE waves SET concurrency_limit = concurrency;
ALTER TABLE waves
    ALTER COLUMN concurrency_limit SET NOT NULL,
    ADD CONSTRAINT waves_limit_check CHECK (concurrency_limit BETWEEN 1 AND concurrency);
-- A new wave's limit starts at its concurrency; a change of concurrency
-- keeps the limit within it.
CREATE FUNCTION waves_limit_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.concurrency_limit IS NULL THEN
        NEW.concurrency_limit := NEW.concurrency;
    END IF;
    NEW.concurrency_limit := least(NEW.concurrency_limit, NEW.concurrency);
    RETURN NEW;
END
$$;
CREATE TRIGGER waves_limit_default BEFORE INSERT OR UPDATE OF concurrency, concurrency_limit ON waves
    FOR EACH ROW EXECUTE FUNCTION waves_limit_default();

-- A wave halted or cancelled cancels its moves not yet started; resuming a
-- halted wave queues them again. A user removed from a wave that has not
-- started can be added back.
INSERT INTO move_state_transitions (from_state, to_state) VALUES ('cancelled', 'queued'), ('cancelled', 'pending');

CREATE INDEX move_leases_expires_idx ON move_leases (expires_at);

-- The timeline of a wave: started, paused, halted, limits changed, ...
CREATE TABLE wave_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id bigint      NOT NULL REFERENCES waves (id),
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind    text        NOT NULL,
    message text        NOT NULL,
    actor   text        NOT NULL
);
CREATE INDEX wave_events_wave_idx ON wave_events (wave_id, id);
CREATE TRIGGER wave_events_append_only BEFORE UPDATE OR DELETE ON wave_events
    FOR EACH ROW EXECUTE FUNCTION move_events_append_only();
CREATE TRIGGER wave_events_no_truncate BEFORE TRUNCATE ON wave_events
    FOR EACH STATEMENT EXECUTE FUNCTION move_events_append_only();

-- Where notifications go. The URL is a secret (it carries the hook's key):
-- it is never logged nor shown in full.
CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url        text        NOT NULL CHECK (url LIKE 'https://%' OR url LIKE 'http://%'),
    format     text        NOT NULL CHECK (format IN ('slack', 'teams', 'json')),
    created_by text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhooks_name_key UNIQUE (name)
);

-- One notification of one wave event to one webhook, and how its delivery
-- went.
CREATE TABLE webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    bigint      NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    wave_event_id bigint      NOT NULL REFERENCES wave_events (id),
    event         text        NOT NULL,
    payload       jsonb       NOT NULL,
    state         text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      int         NOT NULL DEFAULT 0,
    last_status   int,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, wave_event_id)
);
