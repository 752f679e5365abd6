//! Bulk inserts for `lifeboat seed`: multi-row `INSERT` statements of a fixed shape, prepared once
//! and reused, inside large transactions committed every `COMMIT_EVERY` rows so the WAL stays bounded.
//!
//! The loader talks to SQLite directly through rusqlite (the same libsqlite3 as sqlx): binding
//! hundreds of thousands of values through sqlx's worker channel cost more than SQLite's own work.
//! It runs on its own connection to the database file and holds the write lock only inside its
//! transactions; `pause` commits so the caller can use the pool in between.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::mpsc::{Receiver, SyncSender};

use rusqlite::types::ToSqlOutput;

use super::{Db, StoreError};

/// SQLite's limit on bound parameters per statement.
pub const MAX_PARAMS: usize = 32_766;
/// Rows per statement (fewer for wide tables, so a statement stays under `MAX_PARAMS`).
pub const ROWS_PER_STATEMENT: usize = 500;
/// Rows per transaction.
pub const COMMIT_EVERY: u64 = 50_000;

/// A value to bind.
#[derive(Debug, Clone)]
pub enum Val {
    Text(String),
    Static(&'static str),
    Int(i64),
    Time(DateTime<Utc>),
    Null,
}

impl Val {
    fn to_sql(&self) -> ToSqlOutput<'_> {
        use rusqlite::types::{Null, ValueRef};
        match self {
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Static(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Int(n) => ToSqlOutput::from(*n),
            // Exactly sqlx's encoding of `DateTime<Utc>`, so rows read back and sort alike.
            Val::Time(t) => ToSqlOutput::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, false)),
            Val::Null => ToSqlOutput::from(Null),
        }
    }
}

/// Accumulates rows for one table and writes them a statement at a time.
pub struct Batch {
    table: &'static str,
    columns: &'static [&'static str],
    or_ignore: bool,
    rows_per_statement: usize,
    values: Vec<Val>,
    full_sql: String,
}

impl Batch {
    pub fn new(table: &'static str, columns: &'static [&'static str], or_ignore: bool) -> Self {
        let rows_per_statement = ROWS_PER_STATEMENT.min(MAX_PARAMS / columns.len());
        let full_sql = insert_sql(table, columns, or_ignore, rows_per_statement);
        Batch {
            table,
            columns,
            or_ignore,
            rows_per_statement,
            values: Vec::with_capacity(rows_per_statement * columns.len()),
            full_sql,
        }
    }

    /// Adds a row; the caller flushes when `is_full`.
    pub fn push(&mut self, row: impl IntoIterator<Item = Val>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.columns.len(), "{}: wrong column count", self.table);
    }

    pub fn is_full(&self) -> bool {
        self.values.len() >= self.rows_per_statement * self.columns.len()
    }

    pub fn pending_rows(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// Hands the pending rows to the loader's thread and returns their number; the statement runs
    /// while the caller generates the next batch.
    pub async fn flush(&mut self, w: &mut BulkWriter) -> Result<u64, StoreError> {
        let rows = self.pending_rows();
        if rows == 0 {
            return Ok(0);
        }
        let sql = if rows == self.rows_per_statement {
            self.full_sql.clone()
        } else {
            insert_sql(self.table, self.columns, self.or_ignore, rows)
        };
        let capacity = self.rows_per_statement * self.columns.len();
        let values = std::mem::replace(&mut self.values, Vec::with_capacity(capacity));
        w.submit(Job::Insert { sql, values }, rows as u64)?;
        Ok(rows as u64)
    }
}

/// Work for the loader's thread.
enum Job {
    Insert { sql: String, values: Vec<Val> },
    /// Commit what is written; with a reply channel, report the rows inserted so far (or the error).
    Commit(Option<SyncSender<Result<u64, String>>>),
}

/// The loader: its own connection on its own thread, fed through a short queue, so that generating
/// the data (one core) and SQLite writing it (the other) overlap.
pub struct BulkWriter {
    jobs: Option<SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    since_commit: u64,
    submitted: u64,
}

/// Batches queued ahead of the writer (bounds memory to a few MB).
const QUEUE: usize = 8;

fn loader_gone(detail: impl Into<String>) -> StoreError {
    StoreError::Bulk(rusqlite::Error::ToSqlConversionFailure(detail.into().into()))
}

impl BulkWriter {
    /// Opens a connection to the pool's database file and starts the loader's thread.
    pub async fn begin(db: &Db) -> Result<Self, StoreError> {
        let path = db.connect_options().get_filename().to_path_buf();
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")?;
        conn.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = std::sync::mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("lifeboat-bulk-loader".into())
            .spawn(move || run_loader(conn, queue))
            .map_err(|e| loader_gone(format!("cannot start the loader thread: {e}")))?;
        Ok(BulkWriter { jobs: Some(jobs), thread: Some(thread), since_commit: 0, submitted: 0 })
    }

    fn submit(&mut self, job: Job, rows: u64) -> Result<(), StoreError> {
        self.send(job)?;
        self.submitted += rows;
        self.since_commit += rows;
        if self.since_commit >= COMMIT_EVERY {
            self.send(Job::Commit(None))?;
            self.since_commit = 0;
        }
        Ok(())
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        match &self.jobs {
            Some(jobs) if jobs.send(job).is_ok() => Ok(()),
            _ => Err(loader_gone("the bulk loader stopped")),
        }
    }

    /// Waits until everything queued is written and committed; returns the rows inserted so far,
    /// or the first error the loader met (after which it writes nothing more).
    fn sync(&mut self) -> Result<u64, StoreError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Commit(Some(reply)))?;
        self.since_commit = 0;
        answer.recv().map_err(|_| loader_gone("the bulk loader stopped"))?.map_err(loader_gone)
    }

    /// Commits what is written so far and releases the write lock, so the caller can use the pool.
    pub fn pause(&mut self) -> Result<(), StoreError> {
        self.sync().map(|_| ())
    }

    /// Writes and commits everything; `(rows submitted, rows the database inserted)` — they differ
    /// by the rows `INSERT OR IGNORE` skipped.
    pub async fn commit(mut self) -> Result<(u64, u64), StoreError> {
        let inserted = self.sync()?;
        Ok((self.submitted, inserted))
    }
}

impl Drop for BulkWriter {
    fn drop(&mut self) {
        // Closing the queue ends the thread; an uncommitted transaction is rolled back with its
        // connection.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_loader(conn: rusqlite::Connection, queue: Receiver<Job>) {
    let mut in_transaction = false;
    let mut inserted = 0u64;
    let mut failed: Option<String> = None;
    for job in queue {
        match job {
            Job::Insert { sql, values } => {
                if failed.is_some() {
                    continue;
                }
                let mut run = || -> Result<u64, rusqlite::Error> {
                    if !in_transaction {
                        conn.execute_batch("BEGIN IMMEDIATE")?;
                        in_transaction = true;
                    }
                    let mut stmt = conn.prepare_cached(&sql)?;
                    for (i, v) in values.iter().enumerate() {
                        stmt.raw_bind_parameter(i + 1, v.to_sql())?;
                    }
                    Ok(stmt.raw_execute()? as u64)
                };
                match run() {
                    Ok(n) => inserted += n,
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            Job::Commit(reply) => {
                if failed.is_none() && in_transaction {
                    if let Err(e) = conn.execute_batch("COMMIT") {
                        failed = Some(e.to_string());
                    }
                    in_transaction = false;
                }
                if let Some(reply) = reply {
                    let _ = reply.send(match &failed {
                        None => Ok(inserted),
                        Some(e) => Err(e.clone()),
                    });
                }
            }
        }
    }
}

fn insert_sql(table: &str, columns: &[&str], or_ignore: bool, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns.len()].join(","));
    let verb = if or_ignore { "INSERT OR IGNORE" } else { "INSERT" };
    format!("{verb} INTO {table} ({}) VALUES {}", columns.join(", "), vec![one; rows].join(","))
}

/// The email of the organization's first admin (by email), who "creates" a seeded site.
pub async fn first_org_admin_email(db: &Db, org_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT a.email FROM admins a JOIN org_admins o ON o.admin_id = a.admin_id WHERE o.org_id = ?
         ORDER BY a.email LIMIT 1",
    )
    .bind(org_id)
    .fetch_optional(db)
    .await?)
}

/// `(email, account_id)` of the organization's users whose email ends with `suffix`.
pub async fn user_ids_by_email(
    db: &mut sqlx::SqliteConnection,
    org_id: &str,
    suffix: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT email, account_id FROM users WHERE org_id = ? AND email LIKE '%' || ?")
            .bind(org_id)
            .bind(suffix)
            .fetch_all(db)
            .await?;
    Ok(rows)
}

/// `(name, group_id)` of the organization's groups whose name starts with `prefix`.
pub async fn group_ids_by_name(
    db: &mut sqlx::SqliteConnection,
    org_id: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, group_id FROM groups WHERE org_id = ? AND name LIKE ? || '%'")
            .bind(org_id)
            .bind(prefix)
            .fetch_all(db)
            .await?;
    Ok(rows)
}

/// Keys already used on a site (so a second seed of the same site picks fresh ones).
pub async fn taken_keys(db: &Db, cloud_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT project_key FROM jira_projects WHERE cloud_id = ?1
         UNION ALL SELECT space_key FROM confluence_spaces WHERE cloud_id = ?1",
    )
    .bind(cloud_id)
    .fetch_all(db)
    .await?)
}
