-- wave's floor: its own table of moves, a primary key only (created in the
-- floor's fresh database, not in cutover's schema).
CREATE TABLE floor_moves (id bigint PRIMARY KEY, state text NOT NULL DEFAULT 'queued', rollback jsonb)
