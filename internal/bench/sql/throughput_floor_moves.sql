-- throughput's floor: a queued move of the wave $1 for each member of the
-- group $2.
INSERT INTO moves (wave_id, member_id, upn, sip, state, run)
SELECT $1, id, upn, sip, 'queued', 1 FROM group_members WHERE group_id = $2 ORDER BY position
