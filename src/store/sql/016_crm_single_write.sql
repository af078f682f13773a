-- 016: write_mode = single (issue 15): the recording the call log was written with, so the
-- recording's own attach job knows the Task has it already (one write of the call log)...
-- Written to run again harmlessly (IF NOT EXISTS).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS crm_recording_id uuid;
-- ... and the transcript whose analysis it carries.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS crm_transcript_id uuid;
