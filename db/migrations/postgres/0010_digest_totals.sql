-- What the evening digests read instead of every report of the period: the households and
-- reports summed per officer and day (the officer's own reports), per work area (SLS) and day,
-- per kecamatan and day (the SLS's kecamatan), and in total per officer and per work area.
-- A trigger on `reports` keeps them up to date in the same statement, so in the same
-- transaction, as every report saved, corrected, moved or removed. A row of a day is removed
-- when its last report goes. (The same change as sqlite/0010_digest_totals.sql.)

CREATE TABLE officer_days (
    officer_id TEXT NOT NULL,
    day TEXT NOT NULL,
    reports BIGINT NOT NULL,
    late_reports BIGINT NOT NULL,
    households BIGINT NOT NULL,
    PRIMARY KEY (officer_id, day)
);
CREATE INDEX officer_days_day ON officer_days (day);

CREATE TABLE officer_totals (
    officer_id TEXT PRIMARY KEY,
    reports BIGINT NOT NULL,
    late_reports BIGINT NOT NULL,
    households BIGINT NOT NULL
);

CREATE TABLE area_days (
    sls_code TEXT NOT NULL,
    day TEXT NOT NULL,
    reports BIGINT NOT NULL,
    households BIGINT NOT NULL,
    PRIMARY KEY (sls_code, day)
);
CREATE INDEX area_days_day ON area_days (day);

-- `last_positive`: the last day that added households on the SLS (NULL: none yet).
CREATE TABLE area_totals (
    sls_code TEXT PRIMARY KEY,
    reports BIGINT NOT NULL,
    households BIGINT NOT NULL,
    last_positive TEXT
);

-- Per kecamatan of the SLS when the report was saved ('-' when its desa is not in the list).
CREATE TABLE kecamatan_days (
    kecamatan_code TEXT NOT NULL,
    day TEXT NOT NULL,
    reports BIGINT NOT NULL,
    households BIGINT NOT NULL,
    PRIMARY KEY (kecamatan_code, day)
);

-- One change of the totals: a report added (sign 1) or taken away (sign -1).
CREATE FUNCTION digest_total_change(
    p_officer TEXT, p_day TEXT, p_sls TEXT, p_sign BIGINT, p_late BIGINT, p_households BIGINT
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO officer_days AS t (officer_id, day, reports, late_reports, households)
    VALUES (p_officer, p_day, p_sign, p_sign * p_late, p_sign * p_households)
    ON CONFLICT (officer_id, day) DO UPDATE SET
        reports = t.reports + excluded.reports,
        late_reports = t.late_reports + excluded.late_reports,
        households = t.households + excluded.households;
    DELETE FROM officer_days WHERE officer_id = p_officer AND day = p_day AND reports <= 0;

    INSERT INTO officer_totals AS t (officer_id, reports, late_reports, households)
    VALUES (p_officer, p_sign, p_sign * p_late, p_sign * p_households)
    ON CONFLICT (officer_id) DO UPDATE SET
        reports = t.reports + excluded.reports,
        late_reports = t.late_reports + excluded.late_reports,
        households = t.households + excluded.households;
    DELETE FROM officer_totals WHERE officer_id = p_officer AND reports <= 0;

    INSERT INTO area_days AS t (sls_code, day, reports, households)
    VALUES (p_sls, p_day, p_sign, p_sign * p_households)
    ON CONFLICT (sls_code, day) DO UPDATE SET
        reports = t.reports + excluded.reports,
        households = t.households + excluded.households;
    DELETE FROM area_days WHERE sls_code = p_sls AND day = p_day AND reports <= 0;

    INSERT INTO area_totals AS t (sls_code, reports, households, last_positive)
    VALUES (p_sls, p_sign, p_sign * p_households, NULL)
    ON CONFLICT (sls_code) DO UPDATE SET
        reports = t.reports + excluded.reports,
        households = t.households + excluded.households;
    DELETE FROM area_totals WHERE sls_code = p_sls AND reports <= 0;
    UPDATE area_totals SET last_positive = (
        SELECT MAX(d.day) FROM area_days d WHERE d.sls_code = p_sls AND d.households > 0
    ) WHERE sls_code = p_sls;

    INSERT INTO kecamatan_days AS t (kecamatan_code, day, reports, households)
    VALUES (
        COALESCE((SELECT w.kecamatan_code FROM areas a JOIN wilayah_desa w ON w.code = a.desa_code
                  WHERE a.sls_code = p_sls), '-'),
        p_day, p_sign, p_sign * p_households
    )
    ON CONFLICT (kecamatan_code, day) DO UPDATE SET
        reports = t.reports + excluded.reports,
        households = t.households + excluded.households;
END;
$$;

CREATE FUNCTION reports_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM digest_total_change(OLD.officer_id, OLD.report_date, OLD.sls_code, -1,
                                    OLD.late, OLD.progress_value);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM digest_total_change(NEW.officer_id, NEW.report_date, NEW.sls_code, 1,
                                    NEW.late, NEW.progress_value);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reports_totals_insert AFTER INSERT ON reports
FOR EACH ROW EXECUTE FUNCTION reports_totals();
CREATE TRIGGER reports_totals_update
AFTER UPDATE OF officer_id, report_date, sls_code, progress_value, late ON reports
FOR EACH ROW EXECUTE FUNCTION reports_totals();
CREATE TRIGGER reports_totals_delete AFTER DELETE ON reports
FOR EACH ROW EXECUTE FUNCTION reports_totals();

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
