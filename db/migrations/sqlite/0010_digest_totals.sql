-- What the evening digests read instead of every report of the period: the households and
-- reports summed per officer and day (the officer's own reports), per work area (SLS) and day,
-- per kecamatan and day (the SLS's kecamatan), and in total per officer and per work area.
-- Triggers on `reports` keep them up to date in the same statement, so in the same
-- transaction, as every report saved, corrected, moved or removed. A row of a day is removed
-- when its last report goes. The tables are clustered on their keys (WITHOUT ROWID): an
-- evening looks rows up by key, hundreds of thousands of them.

CREATE TABLE officer_days (
    officer_id TEXT NOT NULL,
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    late_reports INTEGER NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (officer_id, day)
) WITHOUT ROWID;
CREATE INDEX officer_days_day ON officer_days (day);

CREATE TABLE officer_totals (
    officer_id TEXT PRIMARY KEY,
    reports INTEGER NOT NULL,
    late_reports INTEGER NOT NULL,
    households INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE area_days (
    sls_code TEXT NOT NULL,
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (sls_code, day)
) WITHOUT ROWID;
CREATE INDEX area_days_day ON area_days (day);

-- `last_positive`: the last day that added households on the SLS (NULL: none yet).
CREATE TABLE area_totals (
    sls_code TEXT PRIMARY KEY,
    reports INTEGER NOT NULL,
    households INTEGER NOT NULL,
    last_positive TEXT
) WITHOUT ROWID;

-- Per kecamatan of the SLS when the report was saved ('-' when its desa is not in the list).
CREATE TABLE kecamatan_days (
    kecamatan_code TEXT NOT NULL,
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    households INTEGER NOT NULL,
    PRIMARY KEY (kecamatan_code, day)
) WITHOUT ROWID;

-- One change of the totals: a report added (sign 1) or taken away (sign -1). Inserting into
-- this view applies it; the triggers of `reports` below only insert here.
CREATE VIEW digest_total_changes AS
SELECT '' AS officer_id, '' AS day, '' AS sls_code, 0 AS sign, 0 AS late, 0 AS households
WHERE 0;

CREATE TRIGGER digest_total_change INSTEAD OF INSERT ON digest_total_changes
BEGIN
    INSERT INTO officer_days (officer_id, day, reports, late_reports, households)
    VALUES (NEW.officer_id, NEW.day, NEW.sign, NEW.sign * NEW.late, NEW.sign * NEW.households)
    ON CONFLICT (officer_id, day) DO UPDATE SET
        reports = reports + excluded.reports,
        late_reports = late_reports + excluded.late_reports,
        households = households + excluded.households;
    DELETE FROM officer_days
    WHERE officer_id = NEW.officer_id AND day = NEW.day AND reports <= 0;

    INSERT INTO officer_totals (officer_id, reports, late_reports, households)
    VALUES (NEW.officer_id, NEW.sign, NEW.sign * NEW.late, NEW.sign * NEW.households)
    ON CONFLICT (officer_id) DO UPDATE SET
        reports = reports + excluded.reports,
        late_reports = late_reports + excluded.late_reports,
        households = households + excluded.households;
    DELETE FROM officer_totals WHERE officer_id = NEW.officer_id AND reports <= 0;

    INSERT INTO area_days (sls_code, day, reports, households)
    VALUES (NEW.sls_code, NEW.day, NEW.sign, NEW.sign * NEW.households)
    ON CONFLICT (sls_code, day) DO UPDATE SET
        reports = reports + excluded.reports,
        households = households + excluded.households;
    DELETE FROM area_days WHERE sls_code = NEW.sls_code AND day = NEW.day AND reports <= 0;

    INSERT INTO area_totals (sls_code, reports, households, last_positive)
    VALUES (NEW.sls_code, NEW.sign, NEW.sign * NEW.households, NULL)
    ON CONFLICT (sls_code) DO UPDATE SET
        reports = reports + excluded.reports,
        households = households + excluded.households;
    DELETE FROM area_totals WHERE sls_code = NEW.sls_code AND reports <= 0;
    UPDATE area_totals SET last_positive = (
        SELECT MAX(d.day) FROM area_days d WHERE d.sls_code = NEW.sls_code AND d.households > 0
    ) WHERE sls_code = NEW.sls_code;

    INSERT INTO kecamatan_days (kecamatan_code, day, reports, households)
    VALUES (
        COALESCE((SELECT w.kecamatan_code FROM areas a JOIN wilayah_desa w ON w.code = a.desa_code
                  WHERE a.sls_code = NEW.sls_code), '-'),
        NEW.day, NEW.sign, NEW.sign * NEW.households
    )
    ON CONFLICT (kecamatan_code, day) DO UPDATE SET
        reports = reports + excluded.reports,
        households = households + excluded.households;
END;

CREATE TRIGGER reports_totals_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO digest_total_changes
    VALUES (NEW.officer_id, NEW.report_date, NEW.sls_code, 1, NEW.late, NEW.progress_value);
END;

CREATE TRIGGER reports_totals_update
AFTER UPDATE OF officer_id, report_date, sls_code, progress_value, late ON reports
BEGIN
    INSERT INTO digest_total_changes
    VALUES (OLD.officer_id, OLD.report_date, OLD.sls_code, -1, OLD.late, OLD.progress_value);
    INSERT INTO digest_total_changes
    VALUES (NEW.officer_id, NEW.report_date, NEW.sls_code, 1, NEW.late, NEW.progress_value);
END;

CREATE TRIGGER reports_totals_delete AFTER DELETE ON reports
BEGIN
    INSERT INTO digest_total_changes
    VALUES (OLD.officer_id, OLD.report_date, OLD.sls_code, -1, OLD.late, OLD.progress_value);
END;

-- The reports saved before this migration.
INSERT INTO officer_days (officer_id, day, reports, late_reports, households)
SELECT officer_id, report_date, COUNT(*), SUM(late), SUM(progress_value)
FROM reports GROUP BY officer_id, report_date;

INSERT INTO officer_totals (officer_id, reports, late_reports, households)
SELECT officer_id, COUNT(*), SUM(late), SUM(progress_value) FROM reports GROUP BY officer_id;

INSERT INTO area_days (sls_code, day, reports, households)
SELECT sls_code, report_date, COUNT(*), SUM(progress_value)
FROM reports GROUP BY sls_code, report_date;

INSERT INTO area_totals (sls_code, reports, households, last_positive)
SELECT sls_code, SUM(reports), SUM(households), MAX(CASE WHEN households > 0 THEN day END)
FROM area_days GROUP BY sls_code;

INSERT INTO kecamatan_days (kecamatan_code, day, reports, households)
SELECT COALESCE(w.kecamatan_code, '-'), r.report_date, COUNT(*), SUM(r.progress_value)
FROM reports r
JOIN areas a ON a.sls_code = r.sls_code
LEFT JOIN wilayah_desa w ON w.code = a.desa_code
GROUP BY COALESCE(w.kecamatan_code, '-'), r.report_date;
