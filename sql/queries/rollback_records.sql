-- A move's rollback record: the user's on-premises state captured before
-- the move call (rollback_records, sql/0001, sql/0007). MoveChange keeps it.

-- name: RollbackRecordGet :one
SELECT move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled,
       line_uri, policies, captured_at
FROM rollback_records WHERE move_id = @move_id;
