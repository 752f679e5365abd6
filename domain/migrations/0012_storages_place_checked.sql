-- The rule that each storage has a place of its own now covers S3 storages too (same endpoint,
-- bucket and overlapping prefix; 2026-12-04), so the mark of migration 0011 is renamed after what
-- it means: this storage was checked against the rule when it was created. S3 storages recorded
-- before are unmarked (0, as 0011 left every older row) and are checked at every use.
ALTER TABLE storages RENAME COLUMN directory_checked TO place_checked;
