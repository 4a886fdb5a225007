-- A worker process found dead by another's heartbeat is lost: a column says
-- so, where the text of its end reason ("no heartbeat since ...") used to be
-- read for it. cutover_heartbeat (sql/functions/heartbeat.sql) sets it.
ALTER TABLE worker_processes ADD COLUMN lost boolean NOT NULL DEFAULT false;
UPDATE worker_processes SET lost = true WHERE end_reason LIKE 'no heartbeat%';
