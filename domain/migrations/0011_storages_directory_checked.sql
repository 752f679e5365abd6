-- Filesystem storages recorded before the rule that each has a directory of its own (2026-12-03)
-- were never checked against it: they are checked at every use (`service::backup::storage_by_id`),
-- so that of two sharing a directory the later is refused. Storages created since are checked in
-- their insert's transaction and marked here, and cost nothing at use.
ALTER TABLE storages ADD COLUMN directory_checked INTEGER NOT NULL DEFAULT 0;
