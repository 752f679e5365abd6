//! Database access: one module per aggregate; no SQL anywhere else.

pub mod audit;
pub mod backup;
#[cfg(test)]
mod change_mark_tests;
pub mod content;
pub mod digest;
pub mod identity;
pub mod jobs;
pub mod platform;
pub mod restore;
pub mod seed;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions;

pub type Db = sqlx::SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database error (bulk loader): {0}")]
    Bulk(#[from] rusqlite::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url {0:?} (this build supports sqlite:)")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// True when the error is a unique-constraint violation (mapped to 409 at the edges).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// The default database URL for a data directory.
pub fn default_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("lifeboat.db").display())
}

/// See `connect`. Rows of seeded data average ~1.2 KB, so ~300 KB per running query; a body may
/// be up to a megabyte (`rules::content::BODY_MAX`), so 256 MB at the very worst.
const ROW_BUFFER: usize = 256;

/// What the WAL file is cut back to when SQLite rewinds it. Without a limit it keeps the size of the
/// largest transaction ever written — a large site's restore leaves gigabytes next to the database
/// for good; with it, that space returns once the next write after a full checkpoint starts over.
pub const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Opens the pool: WAL journal (readers never block the writer; its file cut back to
/// `WAL_SIZE_LIMIT`), foreign keys on, a busy timeout so concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<Db, StoreError> {
    if !url.starts_with("sqlite:") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // SQLite's default page cache (2 MB) per pooled connection: the bulk writers (a restore's
        // transaction, `store::restore::begin_bulk_writes`; the seeder's own connection) enlarge
        // theirs while they write, so idle connections do not each hold a large cache.
        .busy_timeout(Duration::from_secs(10))
        // Rows a query's connection thread may run ahead of its reader (sqlx's default: 50). A
        // backup streams every row of an app through that hand-off; a deeper queue lets each side
        // work in longer stretches instead of waking the other for nearly every row.
        .row_buffer_size(ROW_BUFFER)
        // sqlx warns about a statement running over a second by default, counting the time its
        // reader takes: a backup streams each of an app's tables through one statement for as
        // long as it copies them (a medium site's attachments: ~2 s), which is not slow, and would
        // warn in every backup of a mid-sized site. Half a minute still catches a stuck query.
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    Ok(pool)
}

/// Applies the embedded migrations (idempotent).
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations").run(db).await?;
    Ok(())
}

/// A new internal id: a UUIDv7, time-ordered so that inserts append to primary-key indexes (random
/// v4 ids scatter writes over the whole index). Ids are never part of content or its digest.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A column value the schema's CHECK constraints should have ruled out.
pub(crate) fn parse_col<T>(value: Option<T>, column: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Sqlx(sqlx::Error::Decode(format!("unexpected value in {column}").into())))
}

#[cfg(test)]
mod wal_size_tests {
    use super::*;

    /// A transaction larger than the limit grows the WAL; once it is checkpointed, the next write
    /// starts the WAL over and cuts its file back to the limit.
    #[tokio::test]
    async fn the_wal_file_is_cut_back_after_a_large_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&default_url(dir.path())).await.unwrap();
        let wal = dir.path().join("lifeboat.db-wal");
        sqlx::query("CREATE TABLE big (b BLOB)").execute(&db).await.unwrap();
        let big = WAL_SIZE_LIMIT as i64 + 16 * 1024 * 1024;
        sqlx::query("INSERT INTO big VALUES (zeroblob(?))").bind(big).execute(&db).await.unwrap();
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > WAL_SIZE_LIMIT, "{grown}");

        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&db).await.unwrap();
        sqlx::query("DELETE FROM big").execute(&db).await.unwrap();
        let after = std::fs::metadata(&wal).unwrap().len();
        assert!(after <= WAL_SIZE_LIMIT, "{after}");
    }
}
