-- wave's floor: $1 queued moves, numbered from 1.
INSERT INTO floor_moves (id) SELECT generate_series(1, $1::int)
