-- Announcements (broadcasts) and their outbox: one row per recipient, claimed before it is
-- sent and finished after, so that a restart continues where it stopped and never sends a
-- row twice.

CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    -- An officer id, or `admin-<telegram id>` for an admin from ADMIN_TELEGRAM_IDS.
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    sender_role TEXT NOT NULL CHECK (sender_role IN ('PML', 'KOSEKA', 'ADMIN')),
    sender_chat_id INTEGER NOT NULL,
    -- 'all', 'role:PPL', 'kec:14.10.01', 'subtree', 'subtree_pml' or 'team' (bot/audience.py).
    audience TEXT NOT NULL,
    text TEXT NOT NULL,
    photo_id TEXT,
    document_id TEXT,
    -- UTC, ISO 8601 with microseconds: compared as text against the (injected) clock.
    send_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Active officers of the audience without a Telegram link when it was sent.
    unlinked_count INTEGER NOT NULL DEFAULT 0,
    report_message_id INTEGER,
    finished_at TEXT,
    -- The draft it came from: a second press of the same Kirim button creates nothing.
    draft_token TEXT UNIQUE
);
CREATE INDEX broadcasts_sender ON broadcasts (sender_id, id);

CREATE TABLE broadcast_recipients (
    id INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    chat_id INTEGER NOT NULL,
    -- pending -> sending (claimed, committed before the request) -> sent/failed/unreachable.
    -- A row found 'sending' at start-up was interrupted mid-request: it becomes 'failed' with
    -- error 'interrupted' and is never resent (it may have arrived).
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    attempts INTEGER NOT NULL DEFAULT 0,
    claim_token TEXT,
    claimed_at TEXT,
    message_id INTEGER,
    sent_at TEXT,
    read_at TEXT,
    error TEXT,
    UNIQUE (broadcast_id, officer_id)
);
CREATE INDEX broadcast_recipients_status ON broadcast_recipients (status, broadcast_id, id);
