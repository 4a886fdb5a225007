-- Reports and failure summaries of a group, or of one wave (wave_id not 0).

-- FailureCounts counts failed moves by error code, most frequent first: of
-- a wave, each of its failures; of a group (or every group), each member's
-- failure that no later move supersedes (a retry wave's).
-- name: FailureCounts :many
SELECT m.error_code::text AS code, count(*)::int AS failures FROM moves m JOIN waves w ON w.id = m.wave_id
WHERE (w.group_id = @group_id OR @group_id = 0) AND (w.id = @wave_id OR @wave_id = 0) AND m.state = 'failed'
  AND (@wave_id <> 0 OR m.superseded_by IS NULL)
GROUP BY 1 ORDER BY 2 DESC, 1;

-- Report reads a line per move, in wave and plan order: of a wave, each of
-- its moves; of a group, each member's move that no later one supersedes
-- (each user once). The voice settings are the user's on premises: from
-- the rollback record, or else as a worker read them.
-- name: Report :many
SELECT g.name AS group_name, w.name AS wave_name, m.upn, m.sip, gm.display_name, m.state, m.attempts,
       coalesce(m.error_code, '')::text AS error_code, coalesce(m.error_message, '')::text AS error_message,
       m.started_at, m.finished_at, (m.state = 'rolled_back')::boolean AS rolled_back,
       coalesce(rr.enterprise_voice_enabled, gm.enterprise_voice, false)::boolean AS enterprise_voice,
       coalesce(nullif(rr.line_uri, ''), gm.line_uri, '')::text AS line_uri
FROM moves m JOIN waves w ON w.id = m.wave_id JOIN pilot_groups g ON g.id = w.group_id
JOIN group_members gm ON gm.id = m.member_id
LEFT JOIN rollback_records rr ON rr.move_id = m.id
WHERE (w.group_id = @group_id OR @group_id = 0) AND (w.id = @wave_id OR @wave_id = 0)
  AND (@wave_id <> 0 OR m.superseded_by IS NULL)
ORDER BY w.number, gm.position;
