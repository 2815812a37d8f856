-- The evening digests of a national roster are built a group of kecamatan at a time
-- (db/digest_queries.py: `digest_shards`), each group's officers looked up by kecamatan.
CREATE INDEX officers_kecamatan ON officers (kecamatan_code);
