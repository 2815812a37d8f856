-- Scheduled messages, days off, reachability and supervisor review.

-- One row per scheduled message: claimed before it is sent, so that a restart, a second
-- process or a job fired twice never sends it again.
CREATE TABLE sent_log (
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    day TEXT NOT NULL,
    slot TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'claimed'
        CHECK (status IN ('claimed', 'sent', 'failed', 'unreachable')),
    claimed_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (kind, recipient, day, slot)
);

-- A declared day off (izin): no reminder, and digests say "izin" instead of "missing".
CREATE TABLE days_off (
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    day TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('sakit', 'cuti', 'pelatihan', 'lainnya')),
    note TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (officer_id, day)
);

-- Set when Telegram answers 403 (the officer blocked the bot); cleared when they write again.
ALTER TABLE officers ADD COLUMN unreachable_at TEXT;

CREATE TABLE report_reviews (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    revision INTEGER NOT NULL,
    reviewer_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('approved', 'returned')),
    reason TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX report_reviews_report ON report_reviews (report_id);
