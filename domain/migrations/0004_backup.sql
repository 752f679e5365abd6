-- The backup engine: external storages, policies, backups, durable jobs, exports and imports, the
-- blob index of each storage, and the per-app operation lock. Times are INTEGER Unix milliseconds
-- (UTC): the scheduler, the leases and the sweeper compare them, which text timestamps of varying
-- precision do not allow reliably.

-- An external storage of an organization. Credentials are sealed with the server key
-- (ChaCha20-Poly1305, the storage id as associated data) and never leave the server.
CREATE TABLE storages (
    storage_id          TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    cloud_id            TEXT REFERENCES sites(cloud_id) ON DELETE SET NULL,
    storage_type        TEXT NOT NULL CHECK (storage_type IN ('aws', 'filesystem')),
    storage_name        TEXT NOT NULL,          -- the bucket (aws) or a label (filesystem)
    storage_region      TEXT,
    storage_prefix      TEXT NOT NULL DEFAULT '',
    endpoint            TEXT,
    path                TEXT,
    role_identifier     TEXT,
    principal_tag       TEXT,
    sealed_credentials  BLOB,                   -- nonce || ciphertext of {"accessKeyId","secretAccessKey"}
    created_at          INTEGER NOT NULL,
    created_by          TEXT NOT NULL
);
CREATE INDEX storages_org ON storages(org_id);

-- A backup policy of one app. on_external is derived from storage_id so that the rule "at most one
-- policy on managed and one on external storage per app" is a unique index.
CREATE TABLE policies (
    policy_id                TEXT PRIMARY KEY,
    org_id                   TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    cloud_id                 TEXT NOT NULL,
    product                  TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    storage_id               TEXT REFERENCES storages(storage_id),
    on_external              INTEGER GENERATED ALWAYS AS (storage_id IS NOT NULL) STORED,
    include_attachments      INTEGER NOT NULL CHECK (include_attachments IN (0, 1)),
    include_users_and_groups INTEGER NOT NULL CHECK (include_users_and_groups IN (0, 1)),
    include_personal_spaces  INTEGER NOT NULL CHECK (include_personal_spaces IN (0, 1)),
    schedule_interval        TEXT CHECK (schedule_interval IN ('ONCE', 'DAILY', 'WEEKLY')),
    schedule_time            TEXT,                 -- HH:MM, UTC
    schedule_day             TEXT,              -- MON..SUN (WEEKLY)
    status                   TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    next_run_at              INTEGER,              -- next scheduled run (NULL: none)
    retry_at                 INTEGER,              -- a failed scheduled run is retried at this time
    retry_attempt            INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL,
    created_by               TEXT NOT NULL,
    last_backup_time         INTEGER,
    FOREIGN KEY (cloud_id, product) REFERENCES apps(cloud_id, product) ON DELETE CASCADE
);
CREATE UNIQUE INDEX policies_one_per_storage_kind ON policies(cloud_id, product, on_external);
CREATE INDEX policies_org ON policies(org_id);
CREATE INDEX policies_due ON policies(next_run_at) WHERE next_run_at IS NOT NULL;

CREATE TABLE backups (
    backup_id                TEXT PRIMARY KEY,
    org_id                   TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    policy_id                TEXT REFERENCES policies(policy_id) ON DELETE SET NULL,
    cloud_id                 TEXT NOT NULL,
    product                  TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    storage_id               TEXT REFERENCES storages(storage_id),   -- NULL: managed storage
    status                   TEXT NOT NULL
                             CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'INCOMPLETE', 'FAILED', 'EXPIRED')),
    status_code              TEXT,
    status_message           TEXT,
    origin                   TEXT NOT NULL CHECK (origin IN ('MANUAL', 'SCHEDULED', 'IMPORT')),
    attempt                  INTEGER NOT NULL DEFAULT 1,
    imported_from            TEXT,              -- the exported backup's id, for imports
    include_attachments      INTEGER NOT NULL CHECK (include_attachments IN (0, 1)),
    include_users_and_groups INTEGER NOT NULL CHECK (include_users_and_groups IN (0, 1)),
    include_personal_spaces  INTEGER NOT NULL CHECK (include_personal_spaces IN (0, 1)),
    data_size                INTEGER NOT NULL DEFAULT 0,
    users_size               INTEGER NOT NULL DEFAULT 0,
    attachments_size         INTEGER NOT NULL DEFAULT 0,
    stored_size              INTEGER NOT NULL DEFAULT 0,
    counts                   TEXT NOT NULL DEFAULT '{}',             -- JSON {"issues": 12, ...}
    missing_attachments      INTEGER NOT NULL DEFAULT 0,
    progress_percent         INTEGER NOT NULL DEFAULT 0,
    progress_items           INTEGER NOT NULL DEFAULT 0,
    progress_total           INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL,
    created_by               TEXT NOT NULL,
    completed_at             INTEGER,
    expiry_time              INTEGER NOT NULL,
    expired_at               INTEGER
);
CREATE INDEX backups_policy ON backups(policy_id, created_at);
CREATE INDEX backups_org ON backups(org_id, created_at);
CREATE INDEX backups_expiry ON backups(expiry_time) WHERE status IN ('COMPLETE', 'INCOMPLETE', 'FAILED');

-- One backup or restore at a time per app: the row is inserted in the transaction that creates the
-- operation and deleted when it ends, so a second request fails on the primary key (409 APP_BUSY).
CREATE TABLE app_operations (
    cloud_id      TEXT NOT NULL,
    product       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('BACKUP', 'RESTORE')),
    operation_id  TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    PRIMARY KEY (cloud_id, product)
);

-- Durable jobs. A runner claims a QUEUED job by taking a lease, renews it with heartbeats, and ends
-- it DONE. A RUNNING job whose lease ran out (its process died) is recovered by the next runner.
CREATE TABLE jobs (
    job_id            TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('BACKUP', 'EXPORT', 'IMPORT')),
    subject_id        TEXT NOT NULL,            -- backup_id, export_id or import_id
    state             TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'DONE')),
    run_after         INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    heartbeat_at      INTEGER,
    cancel_requested  TEXT,                     -- who asked (NULL: nobody)
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX jobs_queue ON jobs(state, run_after);
CREATE INDEX jobs_subject ON jobs(subject_id);

CREATE TABLE exports (
    export_id       TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    cloud_id        TEXT NOT NULL,
    product         TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    backup_id       TEXT NOT NULL REFERENCES backups(backup_id),
    storage_id      TEXT NOT NULL REFERENCES storages(storage_id),
    status          TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
    status_message  TEXT,
    copied_bytes    INTEGER NOT NULL DEFAULT 0,
    progress_percent INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    completed_at    INTEGER
);
CREATE INDEX exports_org ON exports(org_id, created_at);

CREATE TABLE imports (
    import_id          TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    cloud_id           TEXT NOT NULL,
    product            TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    backup_id          TEXT NOT NULL,           -- the exported backup's id in the external storage
    storage_id         TEXT NOT NULL REFERENCES storages(storage_id),
    imported_backup_id TEXT REFERENCES backups(backup_id),
    status             TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
    status_message     TEXT,
    copied_bytes       INTEGER NOT NULL DEFAULT 0,
    progress_percent   INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    completed_at       INTEGER
);
CREATE INDEX imports_org ON imports(org_id, created_at);

-- The blobs known to be in each storage ('' = managed storage), so that a backup stores only new
-- bytes. last_used_at is set whenever a backup, export or import refers to the blob: a blob whose
-- last use is older than the oldest live backup of its storage (and the grace period) is garbage.
CREATE TABLE storage_blobs (
    storage_key   TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    PRIMARY KEY (storage_key, sha256)
);
CREATE INDEX storage_blobs_age ON storage_blobs(storage_key, last_used_at);
