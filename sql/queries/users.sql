-- A helpdesk lookup of one user by UPN or SIP address (store.UserView sends
-- these together, in one round trip). The move that matters is the active
-- one, else the latest: each query names it with the same subquery, which
-- the planner runs once (a SQL function there was planned again at every
-- call, and halved the lookups a second).

-- UserMemberships reads the pilot groups a user is a member of, newest first.
-- name: UserMemberships :many
SELECT g.id AS group_id, g.name AS group_name, gm.upn, gm.sip, gm.display_name,
       EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id) AS planned, gm.id AS member_id
FROM group_members gm JOIN pilot_groups g ON g.id = gm.group_id
WHERE gm.upn = @identity OR gm.sip = @identity ORDER BY g.id DESC;

-- name: UserTimeline :many
SELECT at, state, attempt, coalesce(error_code, '')::text AS error_code, message, actor
FROM move_timeline WHERE move_id = (SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity ORDER BY cutover_move_active(c.state) DESC, c.id DESC LIMIT 1)
ORDER BY at, seq NULLS FIRST;

-- name: UserRollbackRecord :one
SELECT move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled,
       line_uri, policies, captured_at
FROM rollback_records WHERE move_id = (SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity ORDER BY cutover_move_active(c.state) DESC, c.id DESC LIMIT 1);

-- UserPreflight reads the last pre-flight of the current move's member, or
-- of the newest membership when there is no move.
-- name: UserPreflight :one
SELECT checked_at, status, checks FROM preflight_results
WHERE member_id = coalesce((SELECT m.member_id FROM moves m WHERE m.id = (SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity ORDER BY cutover_move_active(c.state) DESC, c.id DESC LIMIT 1)),
                           (SELECT gm.id FROM group_members gm WHERE gm.upn = @identity OR gm.sip = @identity
                            ORDER BY gm.group_id DESC LIMIT 1));
