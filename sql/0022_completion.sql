-- Completion: what must still happen after Move-CsUser before a moved
-- user works in Teams as on premises (internal/migration/completion.go).
-- One row per move and item kind, opened when the move ends moved
-- (completion_open, in sql/functions/completion.sql), looked at by the
-- completion job while pending. state: pending, done, failed, person.
CREATE TABLE completion_items (
    move_id    bigint      NOT NULL REFERENCES moves (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    state      text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'person')),
    says       text        NOT NULL DEFAULT '',
    evidence   text        NOT NULL DEFAULT '',
    message    text        NOT NULL DEFAULT '',
    fix        text        NOT NULL DEFAULT '',
    check_at   timestamptz,
    checks     int         NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (move_id, kind),
    CHECK ((state = 'pending') = (check_at IS NOT NULL))
);
-- The completion job's read: the pending items due, soonest first.
CREATE INDEX completion_items_due_idx ON completion_items (check_at) WHERE state = 'pending';
