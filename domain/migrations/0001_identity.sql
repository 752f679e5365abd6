-- Identity: organizations, admin accounts, their rights, and API tokens.
-- Timestamps are RFC 3339 text in UTC (sqlx's chrono mapping for SQLite).

CREATE TABLE organizations (
    org_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE admins (
    admin_id       TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,          -- Argon2id PHC string
    created_at     TEXT NOT NULL
);

-- Organization admin membership: every backup/restore operation needs it for the org in the path.
CREATE TABLE org_admins (
    org_id    TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    admin_id  TEXT NOT NULL REFERENCES admins(admin_id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, admin_id)
);

-- App-admin rights. product NULL = every app; cloud_id NULL = every site of the org.
CREATE TABLE app_admins (
    org_id    TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    admin_id  TEXT NOT NULL REFERENCES admins(admin_id) ON DELETE CASCADE,
    cloud_id  TEXT,
    product   TEXT CHECK (product IN ('JIRA', 'CONFLUENCE')),
    UNIQUE (org_id, admin_id, cloud_id, product)
);

CREATE TABLE api_tokens (
    token_id      TEXT PRIMARY KEY,
    admin_id      TEXT NOT NULL REFERENCES admins(admin_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,     -- SHA-256 of the secret (tokens carry 256 random bits)
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_admin ON api_tokens(admin_id);
