-- Restores: validation checks, consents, the plan shown before consent, and the post-operation
-- report. Times are INTEGER Unix milliseconds, as in 0004.

CREATE TABLE restores (
    restore_id               TEXT PRIMARY KEY,
    org_id                   TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    backup_id                TEXT NOT NULL REFERENCES backups(backup_id),
    cloud_id                 TEXT NOT NULL,             -- the destination site
    product                  TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    status                   TEXT NOT NULL CHECK (status IN
                             ('VALIDATING', 'AWAITING_CONSENT', 'IN_PROGRESS', 'COMPLETE', 'INCOMPLETE', 'FAILED')),
    status_code              TEXT,
    status_message           TEXT,
    include_attachments      INTEGER NOT NULL CHECK (include_attachments IN (0, 1)),
    include_users_and_groups INTEGER NOT NULL CHECK (include_users_and_groups IN (0, 1)),
    include_personal_spaces  INTEGER NOT NULL CHECK (include_personal_spaces IN (0, 1)),
    checks                   TEXT NOT NULL DEFAULT '[]',  -- JSON [{name, result, consent, message}]
    plan                     TEXT NOT NULL DEFAULT '{}',  -- JSON {kind: {create, skip, merge, skipped: [...]}}
    consents                 TEXT NOT NULL DEFAULT '[]',  -- JSON ["Consent_…", …]
    migration_id             TEXT UNIQUE,
    report                   TEXT,                        -- JSON post-operation report
    progress_percent         INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL,
    created_by               TEXT NOT NULL,
    started_at               INTEGER,
    completed_at             INTEGER
);
CREATE INDEX restores_org ON restores(org_id, created_at);
CREATE INDEX restores_backup ON restores(backup_id, created_at);

-- Jobs learn the RESTORE kind (SQLite cannot alter a CHECK constraint: the table is rebuilt).
CREATE TABLE jobs_new (
    job_id            TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('BACKUP', 'EXPORT', 'IMPORT', 'RESTORE')),
    subject_id        TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'DONE')),
    run_after         INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    heartbeat_at      INTEGER,
    cancel_requested  TEXT,
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
INSERT INTO jobs_new SELECT job_id, kind, subject_id, state, run_after, lease_owner, lease_expires_at, heartbeat_at,
    cancel_requested, created_at, finished_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_queue ON jobs(state, run_after);
CREATE INDEX jobs_subject ON jobs(subject_id);
