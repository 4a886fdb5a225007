-- throughput's floor: the move $1's change to moving with its event, and
-- the rollback record kept with it.
WITH r AS (INSERT INTO rollback_records (move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled)
      VALUES ($1, 'sip:user@contoso.com', 'pool01.contoso.com', 'SRV:', false)),
m AS (UPDATE moves SET state = 'moving', move_issued_at = now(), updated_at = now() WHERE id = $1 RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, 'moving', 1, 'moving online', 'floor' FROM m
