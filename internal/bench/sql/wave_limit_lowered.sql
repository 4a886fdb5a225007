-- How often the wave $1's adaptive limit fell ($2: the wave event's kind).
SELECT count(*) FROM wave_events WHERE wave_id = $1 AND kind = $2
