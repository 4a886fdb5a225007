-- wave's floor: the move $1's record on disk before its call, its rollback
-- record $2 with it.
UPDATE floor_moves SET state = 'moving', rollback = $2 WHERE id = $1
