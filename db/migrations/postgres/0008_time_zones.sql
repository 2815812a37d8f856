-- Time zones: each kecamatan carries the IANA zone of its province (WIB, WITA or WIT), and
-- each officer the zone they live in (their kecamatan's, or the roster's `timezone` column;
-- NULL for an admin without one: the deployment's TIMEZONE). Rows already stored take the
-- zone of their province code (the legal division of Indonesia, no daylight saving).
ALTER TABLE wilayah_kecamatan ADD COLUMN timezone TEXT;
ALTER TABLE officers ADD COLUMN timezone TEXT;
UPDATE wilayah_kecamatan SET timezone = CASE
    WHEN substr(code, 1, 2) IN ('51', '52', '53', '63', '64', '65',
                                '71', '72', '73', '74', '75', '76') THEN 'Asia/Makassar'
    WHEN substr(code, 1, 2) IN ('81', '82', '91', '92', '93', '94', '95', '96')
        THEN 'Asia/Jayapura'
    ELSE 'Asia/Jakarta'
END;
UPDATE officers SET timezone = (
    SELECT k.timezone FROM wilayah_kecamatan k WHERE k.code = officers.kecamatan_code
) WHERE kecamatan_code IS NOT NULL;
