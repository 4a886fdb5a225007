-- enqueue's floor: a move of the wave $1 for each member of the group $3,
-- planned by the batch $2, in one INSERT.
INSERT INTO moves (wave_id, member_id, upn, sip, planned_by)
SELECT $1, id, upn, sip, $2 FROM group_members WHERE group_id = $3 ORDER BY position
