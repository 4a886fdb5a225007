-- Where a user stands now, from every move of theirs in every group
-- (migration.StandingOf, which a test holds equal to it): the active move,
-- else the move that ended last, unless that one failed or was cancelled
-- while an earlier move left the user in Teams (moved, found online, or a
-- rollback that failed), which is then where they stand. No row for a user
-- never planned.
CREATE OR REPLACE FUNCTION cutover_standing(p_upn text) RETURNS TABLE (move_id bigint, state text)
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
