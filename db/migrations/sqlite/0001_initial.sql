-- Core schema: wilayah reference, roster, work areas, registration codes, reports with
-- every revision kept, and the conversation persistence of the bot.

CREATE TABLE wilayah_kecamatan (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE wilayah_desa (
    code TEXT PRIMARY KEY,
    kecamatan_code TEXT NOT NULL REFERENCES wilayah_kecamatan (code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('desa', 'kelurahan'))
);

CREATE TABLE officers (
    officer_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('PPL', 'PML', 'KOSEKA', 'ADMIN')),
    supervisor_id TEXT REFERENCES officers (officer_id),
    phone TEXT,
    kecamatan_code TEXT REFERENCES wilayah_kecamatan (code),
    desa_code TEXT REFERENCES wilayah_desa (code),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    telegram_user_id INTEGER UNIQUE,
    telegram_chat_id INTEGER,
    linked_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX officers_supervisor ON officers (supervisor_id);
CREATE INDEX officers_phone ON officers (phone);

CREATE TABLE areas (
    sls_code TEXT PRIMARY KEY,
    sls_name TEXT NOT NULL,
    desa_code TEXT NOT NULL REFERENCES wilayah_desa (code),
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    target_households INTEGER NOT NULL CHECK (target_households >= 0),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE INDEX areas_officer ON areas (officer_id);

CREATE TABLE registration_codes (
    code TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    created_at TEXT NOT NULL,
    used_at TEXT,
    used_by_telegram_id INTEGER
);
CREATE INDEX registration_codes_officer ON registration_codes (officer_id);

-- One row per officer, day and SLS: the current version. Every version, the first included,
-- is also in report_revisions.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    report_date TEXT NOT NULL,
    sls_code TEXT NOT NULL REFERENCES areas (sls_code),
    values_json TEXT NOT NULL,
    progress_value INTEGER NOT NULL,
    note TEXT,
    status TEXT NOT NULL DEFAULT 'submitted'
        CHECK (status IN ('submitted', 'approved', 'returned', 'corrected')),
    late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    revision INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (officer_id, report_date, sls_code)
);
CREATE INDEX reports_date ON reports (report_date);
CREATE INDEX reports_sls ON reports (sls_code);

CREATE TABLE report_revisions (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    revision INTEGER NOT NULL,
    values_json TEXT NOT NULL,
    progress_value INTEGER NOT NULL,
    note TEXT,
    late INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    telegram_user_id INTEGER,
    -- The draft a revision came from: a second press of the same Kirim button saves nothing.
    submission_token TEXT UNIQUE,
    UNIQUE (report_id, revision)
);

-- python-telegram-bot persistence: conversation states and per-user drafts.
CREATE TABLE bot_persistence (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
