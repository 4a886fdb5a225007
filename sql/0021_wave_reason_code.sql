-- Why a wave stands in its state, as a code beside the reason shown to a
-- person (state_reason): '' for none, or 'readiness' for a scheduled wave
-- past its start time that waits for a hybrid readiness check. It used to
-- be found by the reason's first words. An update that changes the reason
-- without setting the code clears it (waves_reason_code, in
-- sql/functions/wave_reason_code.sql).
ALTER TABLE waves ADD COLUMN state_reason_code text NOT NULL DEFAULT '';
UPDATE waves SET state_reason_code = 'readiness'
WHERE state = 'scheduled' AND state_reason LIKE 'not started: hybrid readiness check %';
