-- wave's floor: the move $1's outcome, after its call.
UPDATE floor_moves SET state = 'moved' WHERE id = $1
