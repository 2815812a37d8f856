-- Telegram may deliver an update again (after a crash before its offset was confirmed):
-- each update_id is handled once.
CREATE TABLE processed_updates (
    update_id BIGINT PRIMARY KEY,
    processed_at TEXT NOT NULL
);
