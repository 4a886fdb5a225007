-- lookup's HTTP floor: one group member read by its primary key.
SELECT upn, display_name, sip FROM group_members WHERE id = $1
