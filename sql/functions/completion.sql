-- completion_open opens a moved user's completion items when their move
-- ends moved (and only then: a user found online already was moved by
-- nobody, and a move's retry or rollback never opens them twice): the
-- meetings item, due at once: the completion job's first look says when
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
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER moves_completion_open AFTER UPDATE OF state ON moves
    FOR EACH ROW WHEN (NEW.state = 'moved' AND OLD.state IS DISTINCT FROM 'moved')
    EXECUTE FUNCTION completion_open();
