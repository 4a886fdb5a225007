-- A wave's timeline (wave_events, sql/0003): appended to, never changed.

-- name: WaveEventAdd :one
INSERT INTO wave_events (wave_id, kind, message, actor) VALUES (@wave_id, @kind, @message, @actor)
RETURNING id, wave_id, at, kind, message, actor;

-- name: WaveEvents :many
SELECT id, wave_id, at, kind, message, actor FROM wave_events WHERE wave_id = @wave_id ORDER BY id;
