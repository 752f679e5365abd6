-- The audit log (SPEC §2): every state-changing action, who asked, on what, and how it ended.
-- Entries are only ever appended. Actor and organization are kept as text (not foreign keys) so that
-- the trail outlives a deleted admin; the actor's email is copied for the same reason.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,   -- the order of events, and the paging key
    entry_id     TEXT NOT NULL UNIQUE,
    org_id       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_email  TEXT NOT NULL,
    action       TEXT NOT NULL,                        -- e.g. policy.create, restore.create
    target       TEXT,                                 -- the object acted on (id or name), when known
    outcome      TEXT NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE')),
    code         TEXT,                                 -- the error code of a failure
    message      TEXT,                                 -- the public message of a failure
    at           INTEGER NOT NULL                      -- Unix ms
);

CREATE INDEX audit_log_org ON audit_log (org_id, seq);
