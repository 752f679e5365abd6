//! Bulk inserts for `lifeboat seed`: multi-row `INSERT` statements of a fixed shape (so each shape
//! is prepared once per connection and reused from sqlx's statement cache), inside large
//! transactions committed every `COMMIT_EVERY` rows so the WAL stays bounded.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

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

    /// Writes the pending rows; returns how many rows the database reports inserted.
    pub async fn flush(&mut self, w: &mut BulkWriter) -> Result<u64, StoreError> {
        let rows = self.pending_rows();
        if rows == 0 {
            return Ok(0);
        }
        let partial;
        let sql = if rows == self.rows_per_statement {
            &self.full_sql
        } else {
            partial = insert_sql(self.table, self.columns, self.or_ignore, rows);
            &partial
        };
        let mut q = sqlx::query(sql);
        for v in self.values.drain(..) {
            q = match v {
                Val::Text(s) => q.bind(s),
                Val::Static(s) => q.bind(s),
                Val::Int(n) => q.bind(n),
                Val::Time(t) => q.bind(t),
                Val::Null => q.bind(None::<String>),
            };
        }
        let done = q.execute(&mut *w.tx).await?.rows_affected();
        w.written(rows as u64).await?;
        Ok(done)
    }
}

fn insert_sql(table: &str, columns: &[&str], or_ignore: bool, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns.len()].join(","));
    let verb = if or_ignore { "INSERT OR IGNORE" } else { "INSERT" };
    format!("{verb} INTO {table} ({}) VALUES {}", columns.join(", "), vec![one; rows].join(","))
}

/// A transaction that commits and reopens itself every `COMMIT_EVERY` rows.
pub struct BulkWriter {
    db: Db,
    tx: Transaction<'static, Sqlite>,
    since_commit: u64,
}

impl BulkWriter {
    pub async fn begin(db: &Db) -> Result<Self, StoreError> {
        Ok(BulkWriter { db: db.clone(), tx: db.begin().await?, since_commit: 0 })
    }

    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }

    async fn written(&mut self, rows: u64) -> Result<(), StoreError> {
        self.since_commit += rows;
        if self.since_commit >= COMMIT_EVERY {
            let tx = std::mem::replace(&mut self.tx, self.db.begin().await?);
            tx.commit().await?;
            self.since_commit = 0;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
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
