-- The floors' wave of the group $1: $2 users, concurrency $3, starting now.
INSERT INTO waves (group_id, number, name, size, start_at, max_attempts, concurrency)
VALUES ($1, 1, 'wave 1', $2, now(), 1, $3) RETURNING id
