-- A helpdesk lookup of one user by UPN or SIP address (store.UserView sends
-- these together, in one round trip). The move that matters is the active
-- one, else the latest (cutover_current_move, sql/0011).

-- UserMemberships reads the pilot groups a user is a member of, newest first.
-- name: UserMemberships :many
SELECT g.id AS group_id, g.name AS group_name, gm.upn, gm.sip, gm.display_name,
       EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id) AS planned, gm.id AS member_id
FROM group_members gm JOIN pilot_groups g ON g.id = gm.group_id
WHERE gm.upn = @identity OR gm.sip = @identity ORDER BY g.id DESC;

-- name: UserTimeline :many
SELECT at, state, attempt, coalesce(error_code, '')::text AS error_code, message, actor
FROM move_events WHERE move_id = cutover_current_move(@identity) ORDER BY id;

-- name: UserRollbackRecord :one
SELECT move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled,
       line_uri, policies, captured_at
FROM rollback_records WHERE move_id = cutover_current_move(@identity);

-- UserPreflight reads the last pre-flight of the current move's member, or
-- of the newest membership when there is no move.
-- name: UserPreflight :one
SELECT checked_at, status, checks FROM preflight_results
WHERE member_id = coalesce((SELECT member_id FROM moves WHERE id = cutover_current_move(@identity)),
                           (SELECT gm.id FROM group_members gm WHERE gm.upn = @identity OR gm.sip = @identity
                            ORDER BY gm.group_id DESC LIMIT 1));
