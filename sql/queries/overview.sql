-- The deployment as a whole, for the lead's overview page.

-- DeploymentTally counts every user of every group once, by the state of
-- where they stand: a member in one group only by their move there that no
-- later one supersedes ('unplanned' if none), a user in several groups by
-- cutover_standing.
-- name: DeploymentTally :many
SELECT s.state, count(*)::int AS users
FROM (
    SELECT coalesce(m.state, CASE WHEN gm.left_out THEN 'left_out' ELSE 'unplanned' END)::text AS state
    FROM group_members gm LEFT JOIN moves m ON m.member_id = gm.id AND m.superseded_by IS NULL
    WHERE NOT gm.shared
    UNION ALL
    SELECT coalesce((SELECT st.state FROM cutover_standing(u.upn) st), 'unplanned')::text
    FROM (SELECT DISTINCT upn FROM group_members WHERE shared) u
) s
GROUP BY 1;

-- OutcomesOverTime counts the moves that ended moved, failed or rolled back
-- in each period (unit: 'hour' or 'day', in UTC) since since, by their
-- timeline.
-- name: OutcomesOverTime :many
SELECT (date_trunc(@unit::text, e.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::timestamptz AS period, e.state, count(*)::int AS moves
FROM move_events e
WHERE e.state IN ('moved', 'failed', 'rolled_back') AND e.at >= @since
GROUP BY 1, 2
ORDER BY 1, 2;

-- FirstOutcome is when the first move ended, moved or failed (now if none
-- has).
-- name: FirstOutcome :one
SELECT coalesce(min(e.at), now())::timestamptz AS first FROM move_events e WHERE e.state IN ('moved', 'failed');
