-- Pilot groups and their members (sql/0001, sql/0002, sql/0008). Members are
-- written by COPY (store.GroupCreate).

-- name: GroupInsert :one
INSERT INTO pilot_groups (name, source, created_by) VALUES (@name, @source, @created_by) RETURNING id;

-- GroupMembersShare marks the members of a group just imported whose UPN
-- is in another group too, and those members of the other groups.
-- name: GroupMembersShare :exec
UPDATE group_members gm SET shared = true
FROM (SELECT o.upn FROM group_members n JOIN group_members o ON o.upn = n.upn AND o.group_id <> n.group_id
      WHERE n.group_id = @group_id) s
WHERE gm.upn = s.upn AND NOT gm.shared;

-- name: GroupGet :one
SELECT * FROM group_details WHERE id = @id;

-- name: GroupList :many
SELECT * FROM group_details ORDER BY id DESC;

-- name: GroupName :one
SELECT name FROM pilot_groups WHERE id = @id;

-- GroupLock locks a group while it is planned, so that two plans do not race.
-- name: GroupLock :one
SELECT name FROM pilot_groups WHERE id = @id FOR NO KEY UPDATE;

-- SIPDomains reads the domains of the SIP addresses of every group's members.
-- name: SIPDomains :many
SELECT DISTINCT split_part(sip, '@', 2)::text AS domain FROM group_members ORDER BY 1;

-- MemberList reads a group's members in import order; with wave_id > 0,
-- only those planned into that wave.
-- name: MemberList :many
SELECT gm.id, gm.upn, gm.sip, gm.display_name, gm.enterprise_voice, coalesce(gm.line_uri, '')::text AS line_uri
FROM group_members gm
WHERE gm.group_id = @group_id
  AND (@wave_id::bigint = 0 OR EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id AND m.wave_id = @wave_id))
ORDER BY gm.position;

-- MembersVoiceUnread reads up to max_members members whose Enterprise Voice
-- settings no worker has read yet and whose move has not started.
-- name: MembersVoiceUnread :many
SELECT gm.id, gm.upn, gm.sip FROM group_members gm
WHERE gm.voice_read_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id AND m.state <> 'pending')
ORDER BY gm.id LIMIT @max_members::int;

-- name: MembersVoiceSave :exec
UPDATE group_members gm SET enterprise_voice = v.ev, line_uri = nullif(v.line, ''), voice_read_at = now()
FROM (SELECT unnest(@ids::bigint[]) AS id, unnest(@voice::boolean[]) AS ev, unnest(@line_uris::text[]) AS line) v
WHERE gm.id = v.id;

-- PreflightSave records members' pre-flight results (checks[i], a JSON
-- array, of member_ids[i]), replacing their last.
-- name: PreflightSave :exec
INSERT INTO preflight_results (member_id, checked_at, status, checks)
SELECT r.member_id, @checked_at, r.status, r.checks::jsonb
FROM (SELECT unnest(@member_ids::bigint[]) AS member_id, unnest(@statuses::text[]) AS status, unnest(@checks::text[]) AS checks) r
ON CONFLICT (member_id) DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status, checks = excluded.checks;

-- name: PreflightGet :one
SELECT checked_at, status, checks FROM preflight_results WHERE member_id = @member_id;

-- name: GroupPlanAdd :exec
INSERT INTO group_plans (group_id, planned_by, sentence, settings, request, wave_ids)
VALUES (@group_id, @planned_by, @sentence, @settings, @request, @wave_ids::bigint[]);

-- GroupPlans reads the plans of a group, oldest first.
-- name: GroupPlans :many
SELECT planned_at, planned_by, sentence, settings, wave_ids FROM group_plans WHERE group_id = @group_id ORDER BY id;

-- GroupImportCheck reads the members of a group just imported who stand,
-- by cutover's own moves in other groups, in a move under way or in Teams
-- (moved there, found there, or a rollback that failed), with that move's
-- wave and group. Only members whose UPN is in another group can.
-- name: GroupImportCheck :many
SELECT gm.id, gm.upn, gm.display_name, sm.state, sw.name AS wave_name, sw.state AS wave_state, sg.name AS group_name
FROM group_members gm
JOIN moves sm ON sm.id = (SELECT s.move_id FROM cutover_standing(gm.upn) s)
JOIN waves sw ON sw.id = sm.wave_id
JOIN pilot_groups sg ON sg.id = sw.group_id
WHERE gm.group_id = @group_id AND gm.shared AND sg.id <> @group_id
  AND (cutover_move_active(sm.state) OR sm.state IN ('moved', 'skipped', 'rollback_failed'))
ORDER BY gm.position;

-- name: GroupMembersDrop :exec
DELETE FROM group_members WHERE group_id = @group_id AND id = ANY(@member_ids::bigint[]);
