-- Several bots on one database (BOT_SCOPE): each bot and the wilayah it serves, the bot an
-- account was linked through, and a shared outbox that each bot drains for its own officers.

-- Every bot process records itself at start, so that another bot can name it to an officer
-- of its scope. `scope`: comma list of wilayah code prefixes; empty: every officer.
CREATE TABLE bots (
    username TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    started_at TEXT NOT NULL
);

-- The bot the account was linked through: an ADMIN is served by that bot.
ALTER TABLE officers ADD COLUMN linked_bot TEXT;

-- The bot an announcement was written in (it edits the sender's delivery report), and its
-- attachment as bytes for the other bots (a Telegram file_id belongs to one bot):
-- attachment_state NULL (not needed, or not stored yet), 'stored' or 'unavailable'.
ALTER TABLE broadcasts ADD COLUMN bot TEXT;
ALTER TABLE broadcasts ADD COLUMN attachment BLOB;
ALTER TABLE broadcasts ADD COLUMN attachment_name TEXT;
ALTER TABLE broadcasts ADD COLUMN attachment_state TEXT
    CHECK (attachment_state IN ('stored', 'unavailable'));
-- The bot whose process claimed a row: at its start it settles only its own rows in flight.
ALTER TABLE broadcast_recipients ADD COLUMN claimed_by TEXT;

-- Messages one process leaves for an officer served by another bot (a problem alert, an
-- escalation): one row per message, pending -> sending (claimed) -> sent/failed/unreachable,
-- drained by the bot that serves the officer, in id order.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    kind TEXT NOT NULL,
    text TEXT,
    -- An inline keyboard as Bot API JSON.
    reply_markup TEXT,
    photo BLOB,
    latitude REAL,
    longitude REAL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    claim_token TEXT,
    claimed_by TEXT,
    claimed_at TEXT,
    sent_at TEXT,
    error TEXT
);
CREATE INDEX outbox_status ON outbox (status, id);

-- Telegram numbers updates per bot: with several bots, an update is known by its bot (''
-- for a bot that serves everyone, as before) and its update_id.
CREATE TABLE processed_updates_per_bot (
    bot TEXT NOT NULL DEFAULT '',
    update_id INTEGER NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (bot, update_id)
);
INSERT INTO processed_updates_per_bot (bot, update_id, processed_at)
    SELECT '', update_id, processed_at FROM processed_updates;
DROP TABLE processed_updates;
ALTER TABLE processed_updates_per_bot RENAME TO processed_updates;
