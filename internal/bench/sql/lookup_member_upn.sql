-- lookup's old baseline: one primary-key select in process.
SELECT upn FROM group_members WHERE id = $1
