-- Who holds a claim of a scheduled message, and how often it was claimed. A claim left by a
-- run that is gone (a crash mid-send, see db/runs.py) or a message that failed can thereby be
-- sent once more (digests and escalations, at the next start within MISSED_GRACE_HOURS);
-- `attempts` keeps that to once.
ALTER TABLE sent_log ADD COLUMN claimed_by TEXT;
ALTER TABLE sent_log ADD COLUMN attempts BIGINT NOT NULL DEFAULT 1;
