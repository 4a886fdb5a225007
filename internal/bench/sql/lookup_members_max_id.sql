-- lookup: the highest member ID (the members are numbered from 1).
SELECT max(id) FROM group_members
