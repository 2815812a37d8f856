-- Saving a report is one statement: the report row carries the submission of its current
-- version (who sent it, from which draft), and a trigger copies every new version into
-- report_revisions, in the same statement and so in the same transaction.
ALTER TABLE reports ADD COLUMN telegram_user_id BIGINT;
ALTER TABLE reports ADD COLUMN submission_token TEXT;

UPDATE reports SET
    telegram_user_id = (SELECT v.telegram_user_id FROM report_revisions v
                        WHERE v.report_id = reports.id AND v.revision = reports.revision),
    submission_token = (SELECT v.submission_token FROM report_revisions v
                        WHERE v.report_id = reports.id AND v.revision = reports.revision);

CREATE FUNCTION reports_copy_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_revisions (report_id, revision, values_json, progress_value, note, late,
                                  created_at, telegram_user_id, submission_token)
    VALUES (NEW.id, NEW.revision, NEW.values_json, NEW.progress_value, NEW.note, NEW.late,
            NEW.updated_at, NEW.telegram_user_id, NEW.submission_token);
    RETURN NULL;
END;
$$;

CREATE TRIGGER reports_first_revision AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_copy_revision();

-- Only a statement that sets `revision` makes a version; a review (status only) does not.
CREATE TRIGGER reports_next_revision AFTER UPDATE OF revision ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_copy_revision();
