-- Field problems (kendala): the report, every status change, and each escalation level.

CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (officer_id),
    category TEXT NOT NULL CHECK (category IN (
        'not_home', 'refusal', 'access', 'no_kk', 'equipment', 'security', 'sls_changed',
        'other'
    )),
    -- NULL: general, not about one SLS (or the officer has none).
    sls_code TEXT REFERENCES areas (sls_code),
    desa_code TEXT REFERENCES wilayah_desa (code),
    description TEXT NOT NULL,
    photo_file_id TEXT,
    latitude REAL,
    longitude REAL,
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    -- Households to visit again ("responden tidak di rumah" only); 0 once visited.
    revisit_households INTEGER CHECK (revisit_households BETWEEN 0 AND 200),
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'in_progress', 'resolved', 'escalated')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    -- The draft it came from: a second press of the same Kirim button saves nothing.
    submission_token TEXT UNIQUE
);
CREATE INDEX problems_officer ON problems (officer_id, created_at);
CREATE INDEX problems_status ON problems (status, created_at);

-- Every status, the first ('open') included, with who set it and when. `actor_id` is an
-- officer id, `admin-<telegram id>` for an admin from ADMIN_TELEGRAM_IDS, or NULL for the bot.
CREATE TABLE problem_events (
    id INTEGER PRIMARY KEY,
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved', 'escalated')),
    actor_id TEXT,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX problem_events_problem ON problem_events (problem_id, id);

-- One row per problem and level, claimed before the alert goes: never escalated twice.
CREATE TABLE problem_escalations (
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    level TEXT NOT NULL CHECK (level IN ('koseka', 'admin')),
    escalated_at TEXT NOT NULL,
    -- 'auto' when the time ran out, else who forwarded it (Teruskan ke KOSEKA).
    source TEXT NOT NULL,
    PRIMARY KEY (problem_id, level)
);
