-- Slots of the deployment's cap on moves in flight and of each wave's
-- adaptive limit (sql/0006, sql/0009). Taken with the change that starts a
-- move (MoveChange) or alone.

-- name: LeaseAcquire :one
SELECT ok, wave_state, at, wave_full
FROM cutover_lease_acquire(@wave_id::bigint, @move_id::bigint, @ttl_seconds::double precision, @any_state::boolean, @holder::text);

-- name: LeasesHeld :one
SELECT count(*) FROM cap_slots WHERE expires_at >= now();

-- LeaseRelease frees the move's slots that holder holds.
-- name: LeaseRelease :exec
SELECT cutover_lease_release(@move_id::bigint, @holder::text);
