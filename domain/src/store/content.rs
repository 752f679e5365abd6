//! Queries for the apps' content: Jira projects, issues and comments; Confluence spaces, pages and
//! comments; attachments' metadata (their bytes are in the blob store).

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::Row;

use super::{new_id, parse_col, StoreError};
use crate::model::{Attachment, Comment, Issue, Page, Product, Project, Space, SpaceType};

// ---- Jira ----

fn project_row(r: SqliteRow) -> Project {
    Project {
        project_id: r.get("project_id"),
        key: r.get("project_key"),
        name: r.get("name"),
        description: r.get("description"),
        created_at: r.get("created_at"),
    }
}

pub async fn insert_project<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    key: &str,
    name: &str,
    description: &str,
) -> Result<Project, StoreError> {
    let p = Project {
        project_id: new_id(),
        key: key.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        created_at: Utc::now(),
    };
    sqlx::query(
        "INSERT INTO jira_projects (project_id, cloud_id, project_key, name, description, next_issue_number, created_at)
         VALUES (?, ?, ?, ?, ?, 1, ?)",
    )
    .bind(&p.project_id)
    .bind(cloud_id)
    .bind(&p.key)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.created_at)
    .execute(ex)
    .await?;
    Ok(p)
}

pub async fn find_project<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    key: &str,
) -> Result<Option<Project>, StoreError> {
    let row = sqlx::query(
        "SELECT project_id, project_key, name, description, created_at FROM jira_projects
         WHERE cloud_id = ? AND project_key = ?",
    )
    .bind(cloud_id)
    .bind(key)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(project_row))
}

pub async fn list_projects<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Project>, StoreError> {
    let rows = sqlx::query(
        "SELECT project_id, project_key, name, description, created_at FROM jira_projects
         WHERE cloud_id = ? ORDER BY project_key LIMIT ? OFFSET ?",
    )
    .bind(cloud_id)
    .bind(i64::from(limit))
    .bind(offset as i64)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(project_row).collect())
}

pub async fn count_projects<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jira_projects WHERE cloud_id = ?")
        .bind(cloud_id)
        .fetch_one(ex)
        .await?;
    Ok(n as u64)
}

/// Takes the project's next issue number (call inside the transaction that inserts the issue, so
/// numbers are never reused or skipped).
pub async fn take_issue_number<'e>(ex: impl SqliteExecutor<'e>, project_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "UPDATE jira_projects SET next_issue_number = next_issue_number + 1 WHERE project_id = ?
         RETURNING next_issue_number - 1",
    )
    .bind(project_id)
    .fetch_one(ex)
    .await?;
    Ok(n as u64)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_issue<'e>(
    ex: impl SqliteExecutor<'e>,
    project: &Project,
    number: u64,
    summary: &str,
    description: &str,
    status: &str,
    reporter: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Issue, StoreError> {
    let issue = Issue {
        issue_id: new_id(),
        issue_key: format!("{}-{number}", project.key),
        project_key: project.key.clone(),
        number,
        summary: summary.to_owned(),
        description: description.to_owned(),
        status: status.to_owned(),
        reporter: reporter.map(str::to_owned),
        created_at: now,
        updated_at: now,
        comments: Vec::new(),
    };
    sqlx::query(
        "INSERT INTO jira_issues (issue_id, project_id, number, summary, description, status, reporter_email,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&issue.issue_id)
    .bind(&project.project_id)
    .bind(number as i64)
    .bind(&issue.summary)
    .bind(&issue.description)
    .bind(&issue.status)
    .bind(reporter)
    .bind(now)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(issue)
}

const ISSUE_SELECT: &str = "SELECT i.issue_id, p.project_key, i.number, i.summary, i.description, i.status,
       i.reporter_email, i.created_at, i.updated_at
     FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id";

fn issue_row(r: SqliteRow) -> Issue {
    let key: String = r.get("project_key");
    let number = r.get::<i64, _>("number") as u64;
    Issue {
        issue_id: r.get("issue_id"),
        issue_key: format!("{key}-{number}"),
        project_key: key,
        number,
        summary: r.get("summary"),
        description: r.get("description"),
        status: r.get("status"),
        reporter: r.get("reporter_email"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        comments: Vec::new(),
    }
}

/// The issue `KEY-N` on a site.
pub async fn find_issue<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    project_key: &str,
    number: u64,
) -> Result<Option<Issue>, StoreError> {
    let row = sqlx::query(&format!("{ISSUE_SELECT} WHERE p.cloud_id = ? AND p.project_key = ? AND i.number = ?"))
        .bind(cloud_id)
        .bind(project_key)
        .bind(number as i64)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(issue_row))
}

pub async fn list_issues<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Issue>, StoreError> {
    let rows = sqlx::query(&format!("{ISSUE_SELECT} WHERE i.project_id = ? ORDER BY i.number LIMIT ? OFFSET ?"))
        .bind(project_id)
        .bind(i64::from(limit))
        .bind(offset as i64)
        .fetch_all(ex)
        .await?;
    Ok(rows.into_iter().map(issue_row).collect())
}

pub async fn count_issues<'e>(ex: impl SqliteExecutor<'e>, project_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jira_issues WHERE project_id = ?")
        .bind(project_id)
        .fetch_one(ex)
        .await?;
    Ok(n as u64)
}

/// Which table a comment goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentOn {
    Issue,
    Page,
}

impl CommentOn {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            CommentOn::Issue => ("jira_comments", "issue_id"),
            CommentOn::Page => ("confluence_comments", "page_id"),
        }
    }
}

pub async fn insert_comment<'e>(
    ex: impl SqliteExecutor<'e>,
    on: CommentOn,
    parent_id: &str,
    author: Option<&str>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Comment, StoreError> {
    let (table, column) = on.table_and_column();
    let c = Comment { comment_id: new_id(), author: author.map(str::to_owned), body: body.to_owned(), created_at: now };
    sqlx::query(&format!(
        "INSERT INTO {table} (comment_id, {column}, author_email, body, created_at) VALUES (?, ?, ?, ?, ?)"
    ))
    .bind(&c.comment_id)
    .bind(parent_id)
    .bind(author)
    .bind(body)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(c)
}

/// Comments of several issues or pages (at most a page of a list: ≤ 500 parents), each in creation order.
pub async fn comments_of<'e>(
    ex: impl SqliteExecutor<'e>,
    on: CommentOn,
    parent_ids: &[String],
) -> Result<Vec<(String, Comment)>, StoreError> {
    if parent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (table, column) = on.table_and_column();
    let marks = vec!["?"; parent_ids.len()].join(", ");
    let sql = format!(
        "SELECT {column} AS parent, comment_id, author_email, body, created_at FROM {table}
         WHERE {column} IN ({marks}) ORDER BY {column}, created_at, body"
    );
    let mut q = sqlx::query(&sql);
    for id in parent_ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.get("parent"),
                Comment {
                    comment_id: r.get("comment_id"),
                    author: r.get("author_email"),
                    body: r.get("body"),
                    created_at: r.get("created_at"),
                },
            )
        })
        .collect())
}

// ---- Confluence ----

const SPACE_SELECT: &str = "SELECT s.space_id, s.space_key, s.name, s.space_type, u.email AS owner_email,
       s.created_with_app, s.created_at
     FROM confluence_spaces s LEFT JOIN users u ON u.account_id = s.owner_account_id";

fn space_row(r: SqliteRow) -> Result<Space, StoreError> {
    Ok(Space {
        space_id: r.get("space_id"),
        key: r.get("space_key"),
        name: r.get("name"),
        space_type: parse_col(SpaceType::parse(r.get("space_type")), "confluence_spaces.space_type")?,
        owner: r.get("owner_email"),
        created_with_app: r.get("created_with_app"),
        created_at: r.get("created_at"),
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_space<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    key: &str,
    name: &str,
    space_type: SpaceType,
    owner_account_id: Option<&str>,
    owner_email: Option<&str>,
    created_with_app: bool,
) -> Result<Space, StoreError> {
    let s = Space {
        space_id: new_id(),
        key: key.to_owned(),
        name: name.to_owned(),
        space_type,
        owner: owner_email.map(str::to_owned),
        created_with_app,
        created_at: Utc::now(),
    };
    sqlx::query(
        "INSERT INTO confluence_spaces (space_id, cloud_id, space_key, name, space_type, owner_account_id,
           created_with_app, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.space_id)
    .bind(cloud_id)
    .bind(&s.key)
    .bind(&s.name)
    .bind(space_type.as_str())
    .bind(owner_account_id)
    .bind(created_with_app)
    .bind(s.created_at)
    .execute(ex)
    .await?;
    Ok(s)
}

pub async fn find_space<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    key: &str,
) -> Result<Option<Space>, StoreError> {
    let row = sqlx::query(&format!("{SPACE_SELECT} WHERE s.cloud_id = ? AND s.space_key = ?"))
        .bind(cloud_id)
        .bind(key)
        .fetch_optional(ex)
        .await?;
    row.map(space_row).transpose()
}

pub async fn space_key_taken<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str, key: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM confluence_spaces WHERE cloud_id = ? AND space_key = ?")
        .bind(cloud_id)
        .bind(key)
        .fetch_optional(ex)
        .await?;
    Ok(row.is_some())
}

pub async fn list_spaces<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Space>, StoreError> {
    let rows = sqlx::query(&format!("{SPACE_SELECT} WHERE s.cloud_id = ? ORDER BY s.space_key LIMIT ? OFFSET ?"))
        .bind(cloud_id)
        .bind(i64::from(limit))
        .bind(offset as i64)
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(space_row).collect()
}

pub async fn count_spaces<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM confluence_spaces WHERE cloud_id = ?")
        .bind(cloud_id)
        .fetch_one(ex)
        .await?;
    Ok(n as u64)
}

/// Deletes a space with its pages, comments and attachments' rows (blobs stay: backups may share them).
pub async fn delete_space<'e>(ex: impl SqliteExecutor<'e>, space_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM confluence_spaces WHERE space_id = ?").bind(space_id).execute(ex).await?;
    Ok(done.rows_affected() == 1)
}

const PAGE_SELECT: &str =
    "SELECT g.page_id, g.space_id, s.space_key, g.parent_id, g.title, g.body, g.version, g.position,
       g.author_email, g.created_at, g.updated_at
     FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id";

fn page_row(r: SqliteRow) -> Page {
    Page {
        page_id: r.get("page_id"),
        space_key: r.get("space_key"),
        parent_id: r.get("parent_id"),
        title: r.get("title"),
        body: r.get("body"),
        version: r.get::<i64, _>("version") as u32,
        position: r.get::<i64, _>("position") as u32,
        author: r.get("author_email"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        comments: Vec::new(),
    }
}

/// A page of a site with the id of its space (for parent checks and attachments).
pub async fn find_page<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    page_id: &str,
) -> Result<Option<(String, Page)>, StoreError> {
    let row = sqlx::query(&format!("{PAGE_SELECT} WHERE s.cloud_id = ? AND g.page_id = ?"))
        .bind(cloud_id)
        .bind(page_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| (r.get("space_id"), page_row(r))))
}

/// The position after the last sibling under `parent_id` (None = the space's top level).
pub async fn next_page_position<'e>(
    ex: impl SqliteExecutor<'e>,
    space_id: &str,
    parent_id: Option<&str>,
) -> Result<u32, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM confluence_pages WHERE space_id = ? AND parent_id IS ?",
    )
    .bind(space_id)
    .bind(parent_id)
    .fetch_one(ex)
    .await?;
    // Saturates: a client-chosen position of u32::MAX does not wrap the next sibling to 0.
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

pub struct NewPageRow<'a> {
    pub space_id: &'a str,
    pub space_key: &'a str,
    pub parent_id: Option<&'a str>,
    pub title: &'a str,
    pub body: &'a str,
    pub position: u32,
    pub author: Option<&'a str>,
}

pub async fn insert_page<'e>(ex: impl SqliteExecutor<'e>, p: &NewPageRow<'_>) -> Result<Page, StoreError> {
    let now = Utc::now();
    let page = Page {
        page_id: new_id(),
        space_key: p.space_key.to_owned(),
        parent_id: p.parent_id.map(str::to_owned),
        title: p.title.to_owned(),
        body: p.body.to_owned(),
        version: 1,
        position: p.position,
        author: p.author.map(str::to_owned),
        created_at: now,
        updated_at: now,
        comments: Vec::new(),
    };
    sqlx::query(
        "INSERT INTO confluence_pages (page_id, space_id, parent_id, title, body, version, position, author_email,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
    )
    .bind(&page.page_id)
    .bind(p.space_id)
    .bind(p.parent_id)
    .bind(p.title)
    .bind(p.body)
    .bind(i64::from(p.position))
    .bind(p.author)
    .bind(now)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(page)
}

/// Pages of a space in tree order's first approximation: by parent, then position and title.
pub async fn list_pages<'e>(
    ex: impl SqliteExecutor<'e>,
    space_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Page>, StoreError> {
    let rows = sqlx::query(&format!(
        "{PAGE_SELECT} WHERE g.space_id = ? ORDER BY g.parent_id IS NOT NULL, g.parent_id, g.position, g.title
         LIMIT ? OFFSET ?"
    ))
    .bind(space_id)
    .bind(i64::from(limit))
    .bind(offset as i64)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(page_row).collect())
}

pub async fn count_pages<'e>(ex: impl SqliteExecutor<'e>, space_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM confluence_pages WHERE space_id = ?")
        .bind(space_id)
        .fetch_one(ex)
        .await?;
    Ok(n as u64)
}

// ---- attachments ----

/// The owner of an attachment.
#[derive(Clone, Debug)]
pub enum AttachmentOwner {
    Issue { issue_id: String, issue_key: String },
    Page { page_id: String },
}

pub struct NewAttachmentRow<'a> {
    pub cloud_id: &'a str,
    pub owner: &'a AttachmentOwner,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub author: Option<&'a str>,
}

pub async fn insert_attachment<'e>(
    ex: impl SqliteExecutor<'e>,
    a: &NewAttachmentRow<'_>,
) -> Result<Attachment, StoreError> {
    let (product, issue_id, issue_key, page_id) = match a.owner {
        AttachmentOwner::Issue { issue_id, issue_key } => (Product::Jira, Some(issue_id), Some(issue_key), None),
        AttachmentOwner::Page { page_id } => (Product::Confluence, None, None, Some(page_id)),
    };
    let att = Attachment {
        attachment_id: new_id(),
        filename: a.filename.to_owned(),
        content_type: a.content_type.to_owned(),
        size: a.size,
        sha256: a.sha256.to_owned(),
        issue_key: issue_key.cloned(),
        page_id: page_id.cloned(),
        created_at: Utc::now(),
    };
    sqlx::query(
        "INSERT INTO attachments (attachment_id, cloud_id, product, issue_id, page_id, filename, content_type,
           size, sha256, author_email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&att.attachment_id)
    .bind(a.cloud_id)
    .bind(product.as_str())
    .bind(issue_id)
    .bind(page_id)
    .bind(a.filename)
    .bind(a.content_type)
    .bind(a.size as i64)
    .bind(a.sha256)
    .bind(a.author)
    .bind(att.created_at)
    .execute(ex)
    .await?;
    Ok(att)
}

/// An attachment of a site, by id.
pub async fn find_attachment<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    attachment_id: &str,
) -> Result<Option<Attachment>, StoreError> {
    let row = sqlx::query(
        "SELECT a.attachment_id, a.filename, a.content_type, a.size, a.sha256, a.page_id, a.created_at,
                p.project_key || '-' || i.number AS issue_key
         FROM attachments a
         LEFT JOIN jira_issues i ON i.issue_id = a.issue_id
         LEFT JOIN jira_projects p ON p.project_id = i.project_id
         WHERE a.cloud_id = ? AND a.attachment_id = ?",
    )
    .bind(cloud_id)
    .bind(attachment_id)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|r| Attachment {
        attachment_id: r.get("attachment_id"),
        filename: r.get("filename"),
        content_type: r.get("content_type"),
        size: r.get::<i64, _>("size") as u64,
        sha256: r.get("sha256"),
        issue_key: r.get("issue_key"),
        page_id: r.get("page_id"),
        created_at: r.get("created_at"),
    }))
}

/// Which of `shas` some attachment of one of `apps` (cloud id, product) carries, with its size:
/// bytes those apps have had (uploaded, seeded, or restored once checked). The blob stores are
/// shared by every app of every organization, and app-admin rights are per app, so a blob an
/// archive names may be reused without reading the archive's copy only when it is one of these
/// (`service::restore`, `service::backup::transfer`).
pub async fn blobs_held_by_apps(
    db: &super::Db,
    apps: &[(&str, Product)],
    shas: &[&str],
) -> Result<std::collections::HashSet<(String, u64)>, StoreError> {
    let mut held = std::collections::HashSet::new();
    if apps.is_empty() {
        return Ok(held);
    }
    let in_apps = vec!["(cloud_id = ? AND product = ?)"; apps.len()].join(" OR ");
    for batch in shas.chunks(500) {
        // The hash index first: the apps may have hundreds of thousands of attachments.
        let sql = format!(
            "SELECT DISTINCT sha256, size FROM attachments INDEXED BY attachments_sha256
              WHERE sha256 IN ({}) AND ({in_apps})",
            vec!["?"; batch.len()].join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for sha in batch {
            q = q.bind(*sha);
        }
        for (cloud_id, product) in apps {
            q = q.bind(*cloud_id).bind(product.as_str());
        }
        held.extend(q.fetch_all(db).await?.into_iter().map(|(sha, size)| (sha, size as u64)));
    }
    Ok(held)
}
