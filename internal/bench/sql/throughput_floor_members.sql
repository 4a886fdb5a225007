-- throughput's floor: $2 members of the group $1.
INSERT INTO group_members (group_id, position, upn, sip, display_name)
SELECT $1, i, format('f%s@contoso.com', i), format('f%s@contoso.com', i), format('User %s', i) FROM generate_series(1, $2::int) i
