-- Change marks: lets a backup of an app whose data has not changed since an earlier complete backup
-- reuse that backup's parts instead of reading and compressing every row again.
--
-- Each backup first bumps its app's `generation` (outside its snapshot), then reads `changed_in` as
-- the first statement of its snapshot. The triggers below set `changed_in` to the current generation
-- on any write to anything a backup of the app records (content, attachments, directory, access) —
-- a real write only on the first change of each generation; later ones match no row. So a backup
-- that took generation G saw every change made before G was taken, and a later snapshot reading
-- `changed_in < G` knows nothing has changed since: the data it would write equals G's parts.
CREATE TABLE app_changes (
    cloud_id    TEXT NOT NULL,
    product     TEXT NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 0,
    changed_in  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cloud_id, product),
    FOREIGN KEY (cloud_id, product) REFERENCES apps(cloud_id, product) ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO app_changes (cloud_id, product) SELECT cloud_id, product FROM apps;

-- The generation a completed backup took (NULL: imports, and backups from before this migration).
ALTER TABLE backups ADD COLUMN change_generation INTEGER;

-- An app created again under the same site and product (its old backups survive it) starts past
-- every generation those backups took, and changed in it: none of them can stand for its data.
CREATE TRIGGER apps_change_mark AFTER INSERT ON apps BEGIN
    INSERT OR IGNORE INTO app_changes (cloud_id, product, generation, changed_in)
    SELECT NEW.cloud_id, NEW.product, g, g FROM (
        SELECT COALESCE(MAX(change_generation), 0) + 1 AS g FROM backups
         WHERE cloud_id = NEW.cloud_id AND product = NEW.product);
END;

-- Users and groups are the organization's: a change marks every app of every site of the org.
-- A cascaded delete whose parent row is already gone finds no app; the parent's own trigger has
-- marked it.

CREATE TRIGGER jira_projects_changed_insert AFTER INSERT ON jira_projects BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = 'JIRA';
END;

CREATE TRIGGER jira_projects_changed_update AFTER UPDATE ON jira_projects BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = 'JIRA';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = 'JIRA';
END;

CREATE TRIGGER jira_projects_changed_delete AFTER DELETE ON jira_projects BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = 'JIRA';
END;

CREATE TRIGGER jira_issues_changed_insert AFTER INSERT ON jira_issues BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM jira_projects WHERE project_id = NEW.project_id) AND product = 'JIRA';
END;

CREATE TRIGGER jira_issues_changed_update AFTER UPDATE ON jira_issues BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM jira_projects WHERE project_id = OLD.project_id) AND product = 'JIRA';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM jira_projects WHERE project_id = NEW.project_id) AND product = 'JIRA';
END;

CREATE TRIGGER jira_issues_changed_delete AFTER DELETE ON jira_issues BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM jira_projects WHERE project_id = OLD.project_id) AND product = 'JIRA';
END;

CREATE TRIGGER jira_comments_changed_insert AFTER INSERT ON jira_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT p.cloud_id FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id WHERE i.issue_id = NEW.issue_id) AND product = 'JIRA';
END;

CREATE TRIGGER jira_comments_changed_update AFTER UPDATE ON jira_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT p.cloud_id FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id WHERE i.issue_id = OLD.issue_id) AND product = 'JIRA';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT p.cloud_id FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id WHERE i.issue_id = NEW.issue_id) AND product = 'JIRA';
END;

CREATE TRIGGER jira_comments_changed_delete AFTER DELETE ON jira_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT p.cloud_id FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id WHERE i.issue_id = OLD.issue_id) AND product = 'JIRA';
END;

CREATE TRIGGER confluence_spaces_changed_insert AFTER INSERT ON confluence_spaces BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_spaces_changed_update AFTER UPDATE ON confluence_spaces BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = 'CONFLUENCE';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_spaces_changed_delete AFTER DELETE ON confluence_spaces BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_pages_changed_insert AFTER INSERT ON confluence_pages BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM confluence_spaces WHERE space_id = NEW.space_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_pages_changed_update AFTER UPDATE ON confluence_pages BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM confluence_spaces WHERE space_id = OLD.space_id) AND product = 'CONFLUENCE';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM confluence_spaces WHERE space_id = NEW.space_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_pages_changed_delete AFTER DELETE ON confluence_pages BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT cloud_id FROM confluence_spaces WHERE space_id = OLD.space_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_comments_changed_insert AFTER INSERT ON confluence_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT s.cloud_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE g.page_id = NEW.page_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_comments_changed_update AFTER UPDATE ON confluence_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT s.cloud_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE g.page_id = OLD.page_id) AND product = 'CONFLUENCE';
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT s.cloud_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE g.page_id = NEW.page_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER confluence_comments_changed_delete AFTER DELETE ON confluence_comments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = (SELECT s.cloud_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE g.page_id = OLD.page_id) AND product = 'CONFLUENCE';
END;

CREATE TRIGGER attachments_changed_insert AFTER INSERT ON attachments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = NEW.product;
END;

CREATE TRIGGER attachments_changed_update AFTER UPDATE ON attachments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = OLD.product;
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = NEW.product;
END;

CREATE TRIGGER attachments_changed_delete AFTER DELETE ON attachments BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = OLD.product;
END;

CREATE TRIGGER app_access_changed_insert AFTER INSERT ON app_access BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = NEW.product;
END;

CREATE TRIGGER app_access_changed_update AFTER UPDATE ON app_access BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = OLD.product;
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = NEW.cloud_id AND product = NEW.product;
END;

CREATE TRIGGER app_access_changed_delete AFTER DELETE ON app_access BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = OLD.cloud_id AND product = OLD.product;
END;

CREATE TRIGGER users_changed_insert AFTER INSERT ON users BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = NEW.org_id);
END;

CREATE TRIGGER users_changed_update AFTER UPDATE ON users BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = OLD.org_id);
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = NEW.org_id);
END;

CREATE TRIGGER users_changed_delete AFTER DELETE ON users BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = OLD.org_id);
END;

CREATE TRIGGER groups_changed_insert AFTER INSERT ON groups BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = NEW.org_id);
END;

CREATE TRIGGER groups_changed_update AFTER UPDATE ON groups BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = OLD.org_id);
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = NEW.org_id);
END;

CREATE TRIGGER groups_changed_delete AFTER DELETE ON groups BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT cloud_id FROM sites WHERE org_id = OLD.org_id);
END;

CREATE TRIGGER group_members_changed_insert AFTER INSERT ON group_members BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT s.cloud_id FROM groups g JOIN sites s ON s.org_id = g.org_id WHERE g.group_id = NEW.group_id);
END;

CREATE TRIGGER group_members_changed_update AFTER UPDATE ON group_members BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT s.cloud_id FROM groups g JOIN sites s ON s.org_id = g.org_id WHERE g.group_id = OLD.group_id);
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT s.cloud_id FROM groups g JOIN sites s ON s.org_id = g.org_id WHERE g.group_id = NEW.group_id);
END;

CREATE TRIGGER group_members_changed_delete AFTER DELETE ON group_members BEGIN
    UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id IN (SELECT s.cloud_id FROM groups g JOIN sites s ON s.org_id = g.org_id WHERE g.group_id = OLD.group_id);
END;
