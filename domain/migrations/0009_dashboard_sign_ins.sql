-- Dashboard sign-ins: one row per signed-in browser session, deleted at sign-out and once past the
-- absolute session timeout. The session record (tower-sessions) carries the sign-in's id, and a
-- session whose sign-in is gone counts as signed out: a request still in flight at sign-out saves
-- its copy of the session back, but it can no longer sign anyone in.
CREATE TABLE dashboard_sign_ins (
    sign_in_id    TEXT PRIMARY KEY,
    admin_id      TEXT NOT NULL REFERENCES admins(admin_id) ON DELETE CASCADE,
    signed_in_at  TEXT NOT NULL
);
CREATE INDEX dashboard_sign_ins_by_admin ON dashboard_sign_ins (admin_id);
CREATE INDEX dashboard_sign_ins_by_time ON dashboard_sign_ins (signed_in_at);
