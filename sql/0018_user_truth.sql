-- A user's truth, counts that count each user once, and users a person can
-- find (issue 25).

-- A move a later move of the same member (a retry wave, a user added to
-- another wave, a user moved again) stands in for. A group counts each
-- member by the one move of theirs that no other supersedes.
ALTER TABLE moves ADD COLUMN superseded_by bigint REFERENCES moves (id);
UPDATE moves m SET superseded_by = (SELECT min(n.id) FROM moves n WHERE n.member_id = m.member_id AND n.id > m.id)
WHERE EXISTS (SELECT 1 FROM moves n WHERE n.member_id = m.member_id AND n.id > m.id);

-- A member whose UPN is in another pilot group too: where they stand may
-- come from that group's moves (moved there, then skipped here, then rolled
-- back there). Set at import, for the new group's members and the others'.
ALTER TABLE group_members ADD COLUMN shared boolean NOT NULL DEFAULT false;
UPDATE group_members gm SET shared = true
WHERE EXISTS (SELECT 1 FROM group_members o WHERE o.upn = gm.upn AND o.group_id <> gm.group_id);
CREATE INDEX group_members_shared_idx ON group_members (group_id) WHERE shared;

-- Finding users by the start of an address, or of any word of their name
-- (a first name, a surname), at 100,000 members and more.
CREATE INDEX group_members_upn_prefix_idx ON group_members (upn text_pattern_ops);
CREATE INDEX group_members_sip_prefix_idx ON group_members (sip text_pattern_ops);
CREATE INDEX group_members_name_words_idx ON group_members USING gin (to_tsvector('simple', display_name));

-- A move as the domain reads it, with the move that supersedes it.
CREATE OR REPLACE VIEW move_details AS
SELECT m.id, m.wave_id, w.name AS wave_name, w.start_at AS wave_start_at, g.id AS group_id, g.name AS group_name,
       m.upn, m.sip, gm.display_name, m.state, m.run, m.attempts, w.max_attempts,
       coalesce(m.error_code, '') AS error_code, coalesce(m.error_message, '') AS error_message,
       m.next_attempt_at, m.move_issued_at, m.started_at, m.finished_at, m.updated_at, m.member_id,
       (extract(epoch FROM m.stranded) * 1e9)::bigint AS stranded_ns, gm.position, m.superseded_by
FROM moves m
JOIN waves w ON w.id = m.wave_id
JOIN pilot_groups g ON g.id = w.group_id
JOIN group_members gm ON gm.id = m.member_id;

-- Where a user stands now, from every move of theirs in every group
-- (migration.StandingOf, which a test holds equal to it): the active move,
-- else the move that ended last, unless that one failed or was cancelled
-- while an earlier move left the user in Teams (moved, found online, or a
-- rollback that failed), which is then where they stand. No row for a user
-- never planned.
CREATE FUNCTION cutover_standing(p_upn text) RETURNS TABLE (move_id bigint, state text)
LANGUAGE sql STABLE AS $$
    WITH latest AS (
        SELECT m.id, m.state FROM moves m WHERE m.upn = p_upn
        ORDER BY cutover_move_active(m.state) DESC, m.updated_at DESC, m.id DESC LIMIT 1
    ), homed AS (
        SELECT m.id, m.state FROM moves m
        WHERE m.upn = p_upn AND m.state IN ('moved', 'skipped', 'rolled_back', 'rollback_failed')
        ORDER BY m.updated_at DESC, m.id DESC LIMIT 1
    )
    SELECT CASE WHEN l.state IN ('failed', 'cancelled') AND h.state IN ('moved', 'skipped', 'rollback_failed') THEN h.id ELSE l.id END,
           CASE WHEN l.state IN ('failed', 'cancelled') AND h.state IN ('moved', 'skipped', 'rollback_failed') THEN h.state ELSE l.state END
    FROM latest l LEFT JOIN homed h ON true
$$;

-- The plans a group was planned with, as the lead wrote them: the sentence,
-- its settings in words, and the request as the API took it.
CREATE TABLE group_plans (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id   bigint      NOT NULL REFERENCES pilot_groups (id),
    planned_at timestamptz NOT NULL DEFAULT now(),
    planned_by text        NOT NULL,
    sentence   text        NOT NULL,
    settings   text        NOT NULL,
    request    jsonb       NOT NULL,
    wave_ids   bigint[]    NOT NULL
);
CREATE INDEX group_plans_group_idx ON group_plans (group_id, id);

-- An audit entry's group and wave (a wave's, with its group) and the user
-- it was about, so that the log reads in words and filters by group.
-- Earlier entries take them from the path they record.
ALTER TABLE audit_log ADD COLUMN group_id bigint, ADD COLUMN wave_id bigint, ADD COLUMN subject text NOT NULL DEFAULT '';
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE audit_log SET wave_id = substring(target FROM '^/api/v1/waves/([0-9]+)')::bigint WHERE target ~ '^/api/v1/waves/[0-9]+';
UPDATE audit_log a SET group_id = coalesce(substring(a.target FROM '^/api/v1/groups/([0-9]+)')::bigint, (SELECT w.group_id FROM waves w WHERE w.id = a.wave_id))
WHERE a.target ~ '^/api/v1/groups/[0-9]+' OR a.wave_id IS NOT NULL;
UPDATE audit_log SET subject = substring(target FROM '^/api/v1/users/([^/]+)') WHERE target ~ '^/api/v1/users/[^/]+';
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
CREATE INDEX audit_log_group_idx ON audit_log (group_id, id) WHERE group_id IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);

-- Members a lead left out of the plan (a dry run said they would fail, say):
-- no plan puts them into a wave, until a lead puts them back.
ALTER TABLE group_members ADD COLUMN left_out boolean NOT NULL DEFAULT false;

-- A pilot group with its member counts (migration.Group): unplanned counts
-- the members in no wave whom a plan would take, left_out those left out.
CREATE OR REPLACE VIEW group_details AS
SELECT g.id, g.name, g.source, g.created_by, g.created_at,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id)::int AS members,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id AND NOT gm.left_out
          AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id))::int AS unplanned,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id AND gm.left_out
          AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id))::int AS left_out
FROM pilot_groups g;
