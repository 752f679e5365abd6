-- The platform data plane: sites and their apps, the organization's directory, and the apps' content
-- (Jira projects/issues/comments, Confluence spaces/pages/comments, attachments).
-- Timestamps are RFC 3339 text in UTC. People inside content are referred to by email (as the digest
-- and a restore into another site need), except a personal space's owner, who must be a directory user.

CREATE TABLE sites (
    cloud_id    TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL CHECK (plan IN ('FREE', 'STANDARD', 'PREMIUM', 'ENTERPRISE')),
    shard       TEXT NOT NULL,
    free_trial  INTEGER NOT NULL DEFAULT 0 CHECK (free_trial IN (0, 1)),
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, name)
);

-- An app carries its own plan and shard (initially the site's): a restore may move an app to the
-- backup's shard, and the license check compares app plans.
CREATE TABLE apps (
    cloud_id        TEXT NOT NULL REFERENCES sites(cloud_id) ON DELETE CASCADE,
    product         TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    state           TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DEACTIVATED')),
    plan            TEXT NOT NULL CHECK (plan IN ('FREE', 'STANDARD', 'PREMIUM', 'ENTERPRISE')),
    shard           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    deactivated_at  TEXT,
    PRIMARY KEY (cloud_id, product)
);

CREATE TABLE users (
    account_id    TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, email)
);

-- custom = 0 for the default groups every organization gets with its first site.
CREATE TABLE groups (
    group_id    TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    custom      INTEGER NOT NULL DEFAULT 1 CHECK (custom IN (0, 1)),
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups(group_id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES users(account_id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX group_members_account ON group_members(account_id);

-- A group's role on one app. PENDING_REVIEW (after a restore) is stored but grants nothing until an
-- admin approves it; access_id doubles as the review id.
CREATE TABLE app_access (
    access_id   TEXT PRIMARY KEY,
    group_id    TEXT NOT NULL REFERENCES groups(group_id) ON DELETE CASCADE,
    cloud_id    TEXT NOT NULL,
    product     TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    role        TEXT NOT NULL CHECK (role IN ('USER', 'ADMIN')),
    state       TEXT NOT NULL CHECK (state IN ('ACTIVE', 'PENDING_REVIEW', 'DENIED')),
    created_at  TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  TEXT,
    UNIQUE (group_id, cloud_id, product, role),
    FOREIGN KEY (cloud_id, product) REFERENCES apps(cloud_id, product) ON DELETE CASCADE
);
CREATE INDEX app_access_app ON app_access(cloud_id, product);
CREATE INDEX app_access_state ON app_access(state);

CREATE TABLE jira_projects (
    project_id         TEXT PRIMARY KEY,
    cloud_id           TEXT NOT NULL REFERENCES sites(cloud_id) ON DELETE CASCADE,
    project_key        TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    next_issue_number  INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    UNIQUE (cloud_id, project_key)
);

CREATE TABLE jira_issues (
    issue_id        TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES jira_projects(project_id) ON DELETE CASCADE,
    number          INTEGER NOT NULL CHECK (number > 0),
    summary         TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'To Do',
    reporter_email  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (project_id, number)
);

CREATE TABLE jira_comments (
    comment_id    TEXT PRIMARY KEY,
    issue_id      TEXT NOT NULL REFERENCES jira_issues(issue_id) ON DELETE CASCADE,
    author_email  TEXT,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX jira_comments_issue ON jira_comments(issue_id, created_at);

-- created_with_app marks the personal space made for the admin who created the app: it alone does
-- not make the app "contain data".
CREATE TABLE confluence_spaces (
    space_id          TEXT PRIMARY KEY,
    cloud_id          TEXT NOT NULL REFERENCES sites(cloud_id) ON DELETE CASCADE,
    space_key         TEXT NOT NULL,
    name              TEXT NOT NULL,
    space_type        TEXT NOT NULL CHECK (space_type IN ('global', 'personal')),
    owner_account_id  TEXT REFERENCES users(account_id) ON DELETE SET NULL,
    created_with_app  INTEGER NOT NULL DEFAULT 0 CHECK (created_with_app IN (0, 1)),
    created_at        TEXT NOT NULL,
    UNIQUE (cloud_id, space_key)
);
CREATE INDEX confluence_spaces_owner ON confluence_spaces(owner_account_id);

CREATE TABLE confluence_pages (
    page_id       TEXT PRIMARY KEY,
    space_id      TEXT NOT NULL REFERENCES confluence_spaces(space_id) ON DELETE CASCADE,
    parent_id     TEXT REFERENCES confluence_pages(page_id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    position      INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    author_email  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX confluence_pages_space ON confluence_pages(space_id, parent_id, position);
CREATE INDEX confluence_pages_parent ON confluence_pages(parent_id);

CREATE TABLE confluence_comments (
    comment_id    TEXT PRIMARY KEY,
    page_id       TEXT NOT NULL REFERENCES confluence_pages(page_id) ON DELETE CASCADE,
    author_email  TEXT,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX confluence_comments_page ON confluence_comments(page_id, created_at);

-- An attachment belongs to exactly one issue or one page (two nullable foreign keys rather than a
-- polymorphic owner id, so deleting the owner deletes the row). The bytes live in the blob store
-- under their SHA-256; deleting a row never deletes a blob (backups may share it).
CREATE TABLE attachments (
    attachment_id  TEXT PRIMARY KEY,
    cloud_id       TEXT NOT NULL REFERENCES sites(cloud_id) ON DELETE CASCADE,
    product        TEXT NOT NULL CHECK (product IN ('JIRA', 'CONFLUENCE')),
    issue_id       TEXT REFERENCES jira_issues(issue_id) ON DELETE CASCADE,
    page_id        TEXT REFERENCES confluence_pages(page_id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    sha256         TEXT NOT NULL,
    author_email   TEXT,
    created_at     TEXT NOT NULL,
    CHECK ((product = 'JIRA' AND issue_id IS NOT NULL AND page_id IS NULL)
        OR (product = 'CONFLUENCE' AND page_id IS NOT NULL AND issue_id IS NULL))
);
CREATE INDEX attachments_app ON attachments(cloud_id, product);
CREATE INDEX attachments_issue ON attachments(issue_id);
CREATE INDEX attachments_page ON attachments(page_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
