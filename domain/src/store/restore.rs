//! Queries for restores, and the inserts a restore makes into the destination app (new internal ids,
//! the archive's keys, numbers, trees and timestamps).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteArguments, SqliteExecutor, SqliteRow};
use sqlx::{Arguments, Row, Sqlite, SqliteConnection};

use super::backup::{from_ms, ms};
use super::{new_id, parse_col, StoreError};
use crate::archive::records::{AttachmentRecord, CommentRecord, IssueRecord, PageRecord, ProjectRecord, SpaceRecord};
use crate::model::{Check, PlanEntry, PostOpReport, Product, Progress, Restore, RestoreStatus};

fn restore_row(r: SqliteRow) -> Result<(String, Restore, Option<String>), StoreError> {
    let json = |col: &str| -> String { r.get::<String, _>(col) };
    let checks: Vec<Check> = serde_json::from_str(&json("checks")).unwrap_or_default();
    let plan: BTreeMap<String, PlanEntry> = serde_json::from_str(&json("plan")).unwrap_or_default();
    let consents: Vec<String> = serde_json::from_str(&json("consents")).unwrap_or_default();
    let restore = Restore {
        restore_id: r.get("restore_id"),
        backup_id: r.get("backup_id"),
        cloud_id: r.get("cloud_id"),
        product: parse_col(Product::parse(r.get("product")), "restores.product")?,
        status: parse_col(RestoreStatus::parse(r.get("status")), "restores.status")?,
        status_code: r.get("status_code"),
        status_message: r.get("status_message"),
        include_attachments: r.get("include_attachments"),
        include_users_and_groups: r.get("include_users_and_groups"),
        include_personal_spaces: r.get("include_personal_spaces"),
        checks,
        plan,
        consents,
        migration_id: r.get("migration_id"),
        progress: Progress { percent: r.get::<i64, _>("progress_percent").clamp(0, 100) as u8, ..Default::default() },
        created_at: from_ms(r.get("created_at")),
        created_by: r.get("created_by"),
        started_at: r.get::<Option<i64>, _>("started_at").map(from_ms),
        completed_at: r.get::<Option<i64>, _>("completed_at").map(from_ms),
    };
    Ok((r.get("org_id"), restore, r.get("report")))
}

/// Stores a new restore once validated, with its validation's result (checks, plan, consents, the
/// status they lead to) and archive facts (`None`: none to keep), in one write.
pub async fn insert_restore<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, r: &Restore, facts: Option<&str>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO restores (restore_id, org_id, backup_id, cloud_id, product, status, status_code, status_message,
             include_attachments, include_users_and_groups, include_personal_spaces, checks, plan, consents,
             created_at, created_by, completed_at, validation_facts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.restore_id)
    .bind(org_id)
    .bind(&r.backup_id)
    .bind(&r.cloud_id)
    .bind(r.product.as_str())
    .bind(r.status.as_str())
    .bind(&r.status_code)
    .bind(&r.status_message)
    .bind(r.include_attachments)
    .bind(r.include_users_and_groups)
    .bind(r.include_personal_spaces)
    .bind(to_json(&r.checks, "[]"))
    .bind(to_json(&r.plan, "{}"))
    .bind(to_json(&r.consents, "[]"))
    .bind(ms(r.created_at))
    .bind(&r.created_by)
    .bind(r.completed_at.map(ms))
    .bind(facts)
    .execute(ex)
    .await?;
    Ok(())
}

/// Saves a revalidation's result (checks, plan, consents), the status it leads to, and its archive
/// facts when it has new ones (`None` keeps those stored). False when the restore was no longer
/// awaiting consent — another revalidation of it ended first — and nothing was saved.
pub async fn save_validation<'e>(ex: impl SqliteExecutor<'e>, r: &Restore, facts: Option<&str>) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE restores SET status = ?, status_code = ?, status_message = ?, checks = ?, plan = ?, consents = ?,
             completed_at = ?, validation_facts = COALESCE(?, validation_facts)
          WHERE restore_id = ? AND status = 'AWAITING_CONSENT'",
    )
    .bind(r.status.as_str())
    .bind(&r.status_code)
    .bind(&r.status_message)
    .bind(to_json(&r.checks, "[]"))
    .bind(to_json(&r.plan, "{}"))
    .bind(to_json(&r.consents, "[]"))
    .bind(r.completed_at.map(ms))
    .bind(facts)
    .bind(&r.restore_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn to_json(value: &impl serde::Serialize, empty: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| empty.into())
}

/// Sets a restore's own connection up for its write transaction, before the transaction begins
/// (SQLite refuses to change `temp_store` inside one):
/// - a large page cache: index pages are touched again and again, and a small cache turns that into
///   reads and writes;
/// - statement journals in memory: each multi-row INSERT keeps one, spilled to a temporary file
///   otherwise;
/// - no WAL checkpoint at its commit: the commit would copy the whole transaction into the database
///   file, with an fsync, before the job could report the restore COMPLETE and the next restore
///   could start. `end_bulk_writes` checkpoints afterwards, off the job's path.
pub async fn begin_bulk_writes(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    for pragma in ["PRAGMA cache_size = -32768", "PRAGMA temp_store = MEMORY", "PRAGMA wal_autocheckpoint = 0"] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

/// After the restore's transaction ended (committed or rolled back): the checkpoint its commit
/// skipped (passive: it waits for no reader or writer), then SQLite's defaults back, before the
/// connection returns to the pool.
pub async fn end_bulk_writes(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    for pragma in [
        "PRAGMA wal_checkpoint(PASSIVE)",
        "PRAGMA cache_size = -2000",
        "PRAGMA temp_store = DEFAULT",
        "PRAGMA wal_autocheckpoint = 1000",
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The archive facts of a restore's last validation (JSON, see migration 0008).
pub async fn validation_facts<'e>(ex: impl SqliteExecutor<'e>, restore_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT validation_facts FROM restores WHERE restore_id = ?")
        .bind(restore_id)
        .fetch_optional(ex)
        .await?
        .flatten())
}

pub async fn save_validation_facts<'e>(ex: impl SqliteExecutor<'e>, restore_id: &str, facts: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE restores SET validation_facts = ? WHERE restore_id = ?").bind(facts).bind(restore_id).execute(ex).await?;
    Ok(())
}

pub async fn find_restore<'e>(
    ex: impl SqliteExecutor<'e>,
    restore_id: &str,
) -> Result<Option<(String, Restore, Option<String>)>, StoreError> {
    let row = sqlx::query("SELECT * FROM restores WHERE restore_id = ?").bind(restore_id).fetch_optional(ex).await?;
    row.map(restore_row).transpose()
}

pub async fn find_by_migration<'e>(
    ex: impl SqliteExecutor<'e>,
    migration_id: &str,
) -> Result<Option<(String, Restore, Option<String>)>, StoreError> {
    let row = sqlx::query("SELECT * FROM restores WHERE migration_id = ?").bind(migration_id).fetch_optional(ex).await?;
    row.map(restore_row).transpose()
}

/// The newest 500 restores into the apps `admin_id` administers.
pub async fn list_restores<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    admin_id: &str,
    cloud_id: Option<&str>,
    product: Option<Product>,
) -> Result<Vec<Restore>, StoreError> {
    let sql = format!(
        "SELECT * FROM restores r WHERE r.org_id = ?1 AND (?2 IS NULL OR r.cloud_id = ?2) AND (?3 IS NULL OR r.product = ?3)
            AND {} ORDER BY r.created_at DESC, r.restore_id DESC LIMIT 500",
        super::identity::administered_by("r", "?4")
    );
    let rows = sqlx::query(&sql)
        .bind(org_id)
        .bind(cloud_id)
        .bind(product.map(Product::as_str))
        .bind(admin_id)
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(|r| restore_row(r).map(|(_, r, _)| r)).collect()
}

/// The newest start of a restore of this backup that did not fail (the "once in 7 days" rule).
pub async fn last_restore_of_backup<'e>(ex: impl SqliteExecutor<'e>, backup_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(created_at) FROM restores WHERE backup_id = ? AND status IN ('IN_PROGRESS', 'COMPLETE', 'INCOMPLETE')",
    )
    .bind(backup_id)
    .fetch_one(ex)
    .await?;
    Ok(v.map(from_ms))
}

pub async fn mark_started<'e>(ex: impl SqliteExecutor<'e>, restore_id: &str, migration_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE restores SET status = 'IN_PROGRESS', migration_id = ?, started_at = ?, status_message = NULL WHERE restore_id = ?",
    )
    .bind(migration_id)
    .bind(ms(Utc::now()))
    .bind(restore_id)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn set_progress<'e>(ex: impl SqliteExecutor<'e>, restore_id: &str, percent: u8) -> Result<(), StoreError> {
    sqlx::query("UPDATE restores SET progress_percent = ? WHERE restore_id = ? AND status = 'IN_PROGRESS'")
        .bind(percent as i64)
        .bind(restore_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Ends a running restore (once).
pub async fn finish_restore<'e>(
    ex: impl SqliteExecutor<'e>,
    restore_id: &str,
    status: RestoreStatus,
    code: Option<&str>,
    message: Option<&str>,
    report: Option<&PostOpReport>,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE restores SET status = ?, status_code = ?, status_message = ?, report = ?, completed_at = ?,
             progress_percent = CASE WHEN ? = 'FAILED' THEN progress_percent ELSE 100 END
          WHERE restore_id = ? AND status = 'IN_PROGRESS'",
    )
    .bind(status.as_str())
    .bind(code)
    .bind(message)
    .bind(report.and_then(|r| serde_json::to_string(r).ok()))
    .bind(ms(Utc::now()))
    .bind(status.as_str())
    .bind(restore_id)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends the restores left VALIDATING by a server of an earlier version that stopped while it
/// validated them (it stored a restore before validating it, inside the creating request, so no
/// job remains to end them; restores are now stored once validated): FAILED, "interrupted". At a
/// server's start. Returns how many.
pub async fn fail_interrupted_validations<'e>(ex: impl SqliteExecutor<'e>) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE restores SET status = 'FAILED', status_code = 'INTERRUPTED',
             status_message = 'Interrupted: the server stopped while the restore was validated. Nothing was written; create the restore again.',
             completed_at = ?
          WHERE status = 'VALIDATING'",
    )
    .bind(ms(Utc::now()))
    .execute(ex)
    .await?;
    Ok(r.rows_affected())
}

// ---- the destination's content ----

/// Project keys (Jira) or space keys (Confluence) of an app.
pub async fn content_keys<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str, product: Product) -> Result<Vec<String>, StoreError> {
    let sql = match product {
        Product::Jira => "SELECT project_key FROM jira_projects WHERE cloud_id = ?",
        Product::Confluence => "SELECT space_key FROM confluence_spaces WHERE cloud_id = ?",
    };
    Ok(sqlx::query_scalar(sql).bind(cloud_id).fetch_all(ex).await?)
}

pub async fn insert_project(conn: &mut SqliteConnection, cloud_id: &str, p: &ProjectRecord) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO jira_projects (project_id, cloud_id, project_key, name, description, next_issue_number, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(cloud_id)
    .bind(&p.key)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.next_issue_number)
    .bind(&p.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Rows per multi-row INSERT of a restore: one statement instead of hundreds of round trips to the
/// database thread (at most 11 columns × 400 rows: far below SQLite's 32,766 parameters).
pub const BATCH_ROWS: usize = 400;

/// A multi-row INSERT of a restore's bulk rows, its values bound. Values are moved in, so the text
/// of a record is not copied on its way to SQLite (sqlx's `QueryBuilder` copies every bound
/// string), and a statement can be bound in full while the one before it runs.
pub struct BulkInsert {
    /// `INSERT INTO table (columns) VALUES `
    head: &'static str,
    columns: usize,
    args: SqliteArguments<'static>,
}

impl BulkInsert {
    fn new(head: &'static str, columns: usize) -> BulkInsert {
        let mut args = SqliteArguments::default();
        args.reserve(columns * BATCH_ROWS, 0);
        BulkInsert { head, columns, args }
    }

    /// Issues: `(new id, destination project id, record)` per row.
    pub fn issues() -> BulkInsert {
        BulkInsert::new(
            "INSERT INTO jira_issues (issue_id, project_id, number, summary, description, status, reporter_email, created_at, updated_at) VALUES ",
            9,
        )
    }

    /// Pages: `(new id, destination space id, destination parent id, record)` per row. Parents
    /// come before their children in the archive, so a parent is in an earlier statement or earlier
    /// in the same one (SQLite checks the foreign key at the end of the statement).
    pub fn pages() -> BulkInsert {
        BulkInsert::new(
            "INSERT INTO confluence_pages (page_id, space_id, parent_id, title, body, version, position, author_email, created_at, updated_at) VALUES ",
            10,
        )
    }

    /// An app's comments: `(destination issue or page id, record)` per row.
    pub fn comments(product: Product) -> BulkInsert {
        match product {
            Product::Jira => BulkInsert::new("INSERT INTO jira_comments (comment_id, issue_id, author_email, body, created_at) VALUES ", 5),
            Product::Confluence => {
                BulkInsert::new("INSERT INTO confluence_comments (comment_id, page_id, author_email, body, created_at) VALUES ", 5)
            }
        }
    }

    /// Attachments: `(destination app, destination issue or page id, record)` per row.
    pub fn attachments() -> BulkInsert {
        BulkInsert::new(
            "INSERT INTO attachments (attachment_id, cloud_id, product, issue_id, page_id, filename, content_type, size, sha256, author_email, created_at) VALUES ",
            11,
        )
    }

    pub fn issue(&mut self, id: String, project_id: String, i: IssueRecord) -> Result<(), StoreError> {
        self.row((id, project_id, i.number, i.summary, i.description, i.status, i.reporter_email, i.created_at, i.updated_at))
    }

    pub fn page(&mut self, id: String, space_id: String, parent_id: Option<String>, p: PageRecord) -> Result<(), StoreError> {
        self.row((id, space_id, parent_id, p.title, p.body, p.version, p.position, p.author_email, p.created_at, p.updated_at))
    }

    pub fn comment(&mut self, parent_id: String, c: CommentRecord) -> Result<(), StoreError> {
        self.row((new_id(), parent_id, c.author_email, c.body, c.created_at))
    }

    pub fn attachment(&mut self, (cloud_id, product): (&str, Product), owner_id: String, a: AttachmentRecord) -> Result<(), StoreError> {
        let (issue, page) = match product {
            Product::Jira => (Some(owner_id), None),
            Product::Confluence => (None, Some(owner_id)),
        };
        self.row((new_id(), cloud_id.to_owned(), product.as_str(), issue, page, a.filename, a.content_type, a.size as i64, a.sha256, a.author_email, a.created_at))
    }

    fn row(&mut self, values: impl BindRow) -> Result<(), StoreError> {
        debug_assert_eq!(values.columns(), self.columns);
        values.bind(&mut self.args).map_err(|e| StoreError::Sqlx(sqlx::Error::Encode(e)))
    }

    /// Runs the statement (nothing to do without a row).
    pub async fn execute(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let rows = self.args.len() / self.columns;
        if rows == 0 {
            return Ok(());
        }
        let one = format!("({})", vec!["?"; self.columns].join(", "));
        let sql = format!("{}{}", self.head, vec![one.as_str(); rows].join(", "));
        sqlx::query_with(&sql, self.args).execute(&mut *conn).await?;
        Ok(())
    }
}

/// One row's values, bound in order.
trait BindRow {
    fn columns(&self) -> usize;
    fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), sqlx::error::BoxDynError>;
}

/// `BindRow` for tuples of values (up to 11, the widest table a restore fills in bulk).
macro_rules! bind_row_tuple {
    ($($v:ident),+) => {
        impl<$($v: sqlx::Encode<'static, Sqlite> + sqlx::Type<Sqlite> + 'static),+> BindRow for ($($v,)+) {
            fn columns(&self) -> usize {
                [$(stringify!($v)),+].len()
            }
            #[allow(non_snake_case)]
            fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), sqlx::error::BoxDynError> {
                let ($($v,)+) = self;
                $(args.add($v)?;)+
                Ok(())
            }
        }
    };
}
bind_row_tuple!(A, B, C, D, E);
bind_row_tuple!(A, B, C, D, E, F, G, H, I);
bind_row_tuple!(A, B, C, D, E, F, G, H, I, J);
bind_row_tuple!(A, B, C, D, E, F, G, H, I, J, K);

pub async fn insert_space(
    conn: &mut SqliteConnection,
    cloud_id: &str,
    s: &SpaceRecord,
    owner_account_id: Option<&str>,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO confluence_spaces (space_id, cloud_id, space_key, name, space_type, owner_account_id, created_with_app, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(cloud_id)
    .bind(&s.key)
    .bind(&s.name)
    .bind(&s.space_type)
    .bind(owner_account_id)
    .bind(s.created_with_app)
    .bind(&s.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

