-- The number plan of a wave (migration.NumberPlan): where its Enterprise
-- Voice users' numbers are managed after the move, with a lead's approval
-- of the number moves and a lead's confirmation of the SBC's routing, each
-- with who and when (both audited too). A completion item can wait on one
-- of those decisions (waits_for), which reopens it, and keeps when cutover
-- last acted on it (acted, acted_at: the number's clearing on premises).
ALTER TABLE waves
    ADD COLUMN number_plan text NOT NULL DEFAULT 'on_premises' CHECK (number_plan IN ('on_premises', 'online')),
    ADD COLUMN numbers_approved_at timestamptz,
    ADD COLUMN numbers_approved_by text NOT NULL DEFAULT '',
    ADD COLUMN routing_confirmed_at timestamptz,
    ADD COLUMN routing_confirmed_by text NOT NULL DEFAULT '';

ALTER TABLE completion_items
    ADD COLUMN waits_for text NOT NULL DEFAULT '' CHECK (waits_for IN ('', 'routing', 'approval')),
    ADD COLUMN acted text NOT NULL DEFAULT '',
    ADD COLUMN acted_at timestamptz,
    ADD CONSTRAINT completion_items_waits_check CHECK (waits_for = '' OR state = 'person');

-- A lead's decision reopens the items of the wave that wait on it.
CREATE INDEX completion_items_waiting_idx ON completion_items (waits_for) WHERE waits_for <> '';
