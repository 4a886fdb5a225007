-- A helpdesk lookup of one user by UPN or SIP address (store.UserView sends
-- these together, in one round trip, with MovesByUser): every move of the
-- user with its timeline and rollback record, and the pre-flight of each
-- membership. Where the user stands is read from all of them
-- (migration.StandingOf). The user's moves are named by an array the
-- planner reads first (= ANY(ARRAY(...))), so that each branch of the
-- move_timeline view reads their rows by index: a join (IN) read the whole
-- view and halved the lookups a second at 2,000 users, as a SQL function
-- here once did.

-- UserMemberships reads the pilot groups a user is a member of, newest first.
-- name: UserMemberships :many
SELECT g.id AS group_id, g.name AS group_name, gm.upn, gm.sip, gm.display_name,
       EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id) AS planned, gm.id AS member_id
FROM group_members gm JOIN pilot_groups g ON g.id = gm.group_id
WHERE gm.upn = @identity OR gm.sip = @identity ORDER BY g.id DESC;

-- UserTimelines reads the timelines of every move of the user, each
-- oldest first.
-- name: UserTimelines :many
SELECT move_id, at, state, attempt, coalesce(error_code, '')::text AS error_code, message, actor
FROM move_timeline WHERE move_id = ANY(ARRAY(SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity))
ORDER BY move_id, at, seq NULLS FIRST;

-- UserRollbackRecords reads the rollback record of every move of the user.
-- name: UserRollbackRecords :many
SELECT move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled,
       line_uri, policies, captured_at
FROM rollback_records WHERE move_id = ANY(ARRAY(SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity));

-- UserPreflights reads the last pre-flight of each of the user's
-- memberships.
-- name: UserPreflights :many
SELECT member_id, checked_at, status, checks FROM preflight_results
WHERE member_id = ANY(ARRAY(SELECT gm.id FROM group_members gm WHERE gm.upn = @identity OR gm.sip = @identity));

-- Finding users: a pattern matches the start of a UPN or SIP address (a
-- LIKE pattern, its wildcards escaped: store.prefixPattern), words the
-- start of words of the display name (a tsquery: store.wordsQuery); either
-- may be empty.

-- UserSearch finds up to max_users users, each once (by UPN), whose
-- address or name matches, with their newest group.
-- The matches are found first, by the indexes (a walk of the UPN index in
-- order, for the LIMIT, read 100,000 members to find 50).
-- name: UserSearch :many
WITH found AS MATERIALIZED (
    SELECT gm.upn, gm.sip, gm.display_name, gm.group_id FROM group_members gm
    WHERE (@pattern::text <> '' AND (gm.upn LIKE @pattern OR gm.sip LIKE @pattern))
       OR (@words::text <> '' AND to_tsvector('simple', gm.display_name) @@ to_tsquery('simple', @words))
)
SELECT DISTINCT ON (f.upn) f.upn, f.sip, f.display_name, g.name AS group_name
FROM found f JOIN pilot_groups g ON g.id = f.group_id
ORDER BY f.upn, f.group_id DESC
LIMIT @max_users::int;

-- GroupUsers reads a page of a group's members, in import order after
-- position after, each with their move in the group that no later one
-- supersedes (none for a member in no wave) and, for a member whose UPN is
-- in another group too, where they stand across every group ('left_out' for
-- a member in no wave a lead left out of the plan), with their last dry
-- run's outcome. Filters (each off when empty or 0): the state of where they
-- stand, the wave of their move, its error code, the dry run's outcome, and
-- the search.
-- name: GroupUsers :many
SELECT u.member_id, u.position, u.upn, u.sip, u.display_name, u.move_id, u.wave_id, u.wave_name, u.state,
       u.attempts, u.max_attempts, u.error_code, u.error_message, u.updated_at, u.standing_group, u.dry_run
FROM (
    SELECT gm.id AS member_id, gm.position, gm.upn, gm.sip, gm.display_name,
           m.id AS move_id, m.wave_id, w.name AS wave_name,
           coalesce(st.state, m.state, CASE WHEN gm.left_out THEN 'left_out' ELSE 'unplanned' END)::text AS state,
           coalesce(m.attempts, 0)::int AS attempts, coalesce(pf.status, '')::text AS dry_run,
           coalesce(w.max_attempts, 0)::int AS max_attempts, coalesce(m.error_code, '')::text AS error_code,
           coalesce(m.error_message, '')::text AS error_message, m.updated_at, coalesce(st.group_name, '')::text AS standing_group
    FROM group_members gm
    LEFT JOIN moves m ON m.member_id = gm.id AND m.superseded_by IS NULL
    LEFT JOIN waves w ON w.id = m.wave_id
    LEFT JOIN preflight_results pf ON pf.member_id = gm.id
    LEFT JOIN LATERAL (
        SELECT sm.state, g.name AS group_name
        FROM moves sm JOIN waves sw ON sw.id = sm.wave_id JOIN pilot_groups g ON g.id = sw.group_id
        WHERE gm.shared AND sm.id = (SELECT s.move_id FROM cutover_standing(gm.upn) s) AND sm.id IS DISTINCT FROM m.id
    ) st ON true
    WHERE gm.group_id = @group_id AND gm.position > @after::int
      AND (@wave_id::bigint = 0 OR m.wave_id = @wave_id)
      AND (@error_code::text = '' OR m.error_code = @error_code)
      AND (@dry_run::text = '' OR pf.status = @dry_run)
      AND (@completion::text = ''
           OR (m.state = 'moved' AND cutover_completion_of(ARRAY(SELECT ci.state FROM completion_items ci WHERE ci.move_id = m.id)) = @completion))
      AND ((@pattern::text = '' AND @words::text = '')
           OR (@pattern <> '' AND (gm.upn LIKE @pattern OR gm.sip LIKE @pattern))
           OR (@words <> '' AND to_tsvector('simple', gm.display_name) @@ to_tsquery('simple', @words)))
) u
WHERE coalesce(cardinality(@states::text[]), 0) = 0 OR u.state = ANY(@states)
ORDER BY u.position
LIMIT @max_users::int;

-- WaveUsers reads a page of a wave's users, in import order after
-- position after, each with their move in the wave. Filters as GroupUsers'.
-- name: WaveUsers :many
SELECT gm.id AS member_id, gm.position, gm.upn, gm.sip, gm.display_name,
       m.id AS move_id, m.wave_id, w.name AS wave_name, m.state, m.attempts, w.max_attempts,
       coalesce(m.error_code, '')::text AS error_code, coalesce(m.error_message, '')::text AS error_message,
       m.updated_at, m.superseded_by, coalesce(sw.name, '')::text AS superseded_wave
FROM moves m
JOIN group_members gm ON gm.id = m.member_id
JOIN waves w ON w.id = m.wave_id
LEFT JOIN moves sm ON sm.id = m.superseded_by
LEFT JOIN waves sw ON sw.id = sm.wave_id
WHERE m.wave_id = @wave_id AND gm.position > @after::int
  AND (coalesce(cardinality(@states::text[]), 0) = 0 OR m.state = ANY(@states))
  AND (@error_code::text = '' OR m.error_code = @error_code)
  AND (@completion::text = ''
       OR (m.state = 'moved' AND cutover_completion_of(ARRAY(SELECT ci.state FROM completion_items ci WHERE ci.move_id = m.id)) = @completion))
  AND ((@pattern::text = '' AND @words::text = '')
       OR (@pattern <> '' AND (gm.upn LIKE @pattern OR gm.sip LIKE @pattern))
       OR (@words <> '' AND to_tsvector('simple', gm.display_name) @@ to_tsquery('simple', @words)))
ORDER BY gm.position
LIMIT @max_users::int;

-- GroupMembersLeaveOut leaves members of a group in no wave out of the plan
-- (left_out true), or puts them back (false), and returns those it changed.
-- name: GroupMembersLeaveOut :many
UPDATE group_members gm SET left_out = @left_out
WHERE gm.group_id = @group_id AND gm.id = ANY(@member_ids::bigint[]) AND gm.left_out <> @left_out
  AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id)
RETURNING gm.id;

-- GroupMembersOf reads the members of a group with these UPNs or SIP
-- addresses, with the wave of their move in the group if any.
-- name: GroupMembersOf :many
SELECT gm.id, gm.upn, gm.sip, gm.display_name, gm.left_out, coalesce(w.name, '')::text AS wave_name
FROM group_members gm
LEFT JOIN moves m ON m.member_id = gm.id AND m.superseded_by IS NULL
LEFT JOIN waves w ON w.id = m.wave_id
WHERE gm.group_id = @group_id AND (gm.upn = ANY(@identities::text[]) OR gm.sip = ANY(@identities::text[]));

-- UserCompletion reads the completion items of every move of the user.
-- name: UserCompletion :many
SELECT * FROM completion_items
WHERE move_id = ANY(ARRAY(SELECT c.id FROM moves c WHERE c.upn = @identity OR c.sip = @identity))
ORDER BY move_id, kind;

-- WaveCompletion counts the users of the waves who stand moved by their
-- move in the wave, by wave and where their completion stands
-- (cutover_completion_of: needs, pending, done), and of them those with an
-- item that waits on a lead's decision (the SBC's routing, the number
-- moves' approval), and those with a voice item (Enterprise Voice users).
-- name: WaveCompletion :many
SELECT u.wave_id, u.completion::text AS completion, count(*)::int AS users,
       (count(*) FILTER (WHERE u.routing))::int AS waiting_routing,
       (count(*) FILTER (WHERE u.approval))::int AS waiting_approval,
       (count(*) FILTER (WHERE u.voice))::int AS voice
FROM (
    SELECT m.wave_id, cutover_completion_of(array_agg(c.state)) AS completion,
           bool_or(c.waits_for = 'routing') AS routing, bool_or(c.waits_for = 'approval') AS approval,
           bool_or(c.kind = 'voice') AS voice
    FROM completion_items c JOIN moves m ON m.id = c.move_id
    WHERE m.wave_id = ANY(@wave_ids::bigint[]) AND m.state = 'moved'
    GROUP BY m.wave_id, m.id
) u
GROUP BY u.wave_id, u.completion;
