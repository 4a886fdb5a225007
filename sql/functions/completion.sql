-- completion_open opens a moved user's completion items when their move
-- ends moved (and only then: a user found online already was moved by
-- nobody, and a move's retry or rollback never opens them twice): the
-- meetings item (and, for a user enabled for Enterprise Voice on premises,
-- the voice item), due at once: the completion job's first look says when
-- Microsoft's Meeting Migration Service begins (migration.MeetingsTiming),
-- without asking Microsoft. It runs in the move's own transaction, so no
-- moved user is without items.
CREATE OR REPLACE FUNCTION completion_open() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO completion_items (move_id, kind, says, check_at)
    VALUES (NEW.id, 'meetings', 'Microsoft begins migrating the user''s meetings about 90 minutes after the move.',
            now())
    ON CONFLICT (move_id, kind) DO NOTHING;
    -- A user enabled for Enterprise Voice on premises (their rollback
    -- record says so): their calling in Teams.
    INSERT INTO completion_items (move_id, kind, says, check_at)
    SELECT NEW.id, 'voice', 'cutover checks the user''s calling in Teams.', now()
    FROM rollback_records r WHERE r.move_id = NEW.id AND r.enterprise_voice_enabled
    ON CONFLICT (move_id, kind) DO NOTHING;
    -- In a wave whose number plan is online, such a user's number moved to
    -- online management (migration.NumberPlan), if they had one.
    INSERT INTO completion_items (move_id, kind, says, check_at)
    SELECT NEW.id, 'number', 'cutover moves the user''s number to online management.', now()
    FROM rollback_records r JOIN waves w ON w.id = NEW.wave_id
    WHERE r.move_id = NEW.id AND r.enterprise_voice_enabled AND r.line_uri <> '' AND w.number_plan = 'online'
      AND NOT w.bypass_enterprise_voice_check
    ON CONFLICT (move_id, kind) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER moves_completion_open AFTER UPDATE OF state ON moves
    FOR EACH ROW WHEN (NEW.state = 'moved' AND OLD.state IS DISTINCT FROM 'moved')
    EXECUTE FUNCTION completion_open();

-- cutover_completion_of says where a moved user's completion stands from
-- the states of their items: 'needs' if one failed or was handed to a
-- person, else 'pending' if one is pending, else 'done' (NULL: no items).
-- The counts of a wave and the filters of its users' list both read it, so
-- that a count leads to exactly the users it counts
-- (migration.CompletionOf is the same rule).
CREATE OR REPLACE FUNCTION cutover_completion_of(states text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN coalesce(cardinality(states), 0) = 0 THEN NULL
        WHEN states && ARRAY['failed', 'person'] THEN 'needs'
        WHEN states && ARRAY['pending'] THEN 'pending'
        ELSE 'done'
    END
$$;
