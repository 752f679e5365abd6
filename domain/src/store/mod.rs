//! Database access: one module per aggregate; no SQL anywhere else.

pub mod audit;
pub mod backup;
pub mod backup_snapshot;
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
    #[error("database error (snapshot reader): {0}")]
    Snapshot(String),
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

    /// True when the database stayed busy past `BUSY_TIMEOUT`: SQLite's one writer held by another
    /// connection all that time (a long restore's write transaction), or no pooled connection free.
    /// Mapped to 503 with `Retry-After` at the edges: the write that waited was not made.
    pub fn is_busy(&self) -> bool {
        const SQLITE_BUSY: i32 = 5;
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => {
                // Extended result codes keep the primary code in their low byte (SQLITE_BUSY_SNAPSHOT…).
                e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == SQLITE_BUSY)
            }
            StoreError::Sqlx(sqlx::Error::PoolTimedOut) => true,
            StoreError::Bulk(rusqlite::Error::SqliteFailure(e, _)) => e.code == rusqlite::ErrorCode::DatabaseBusy,
            _ => false,
        }
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

/// The WAL file next to a pool's database (`None` for a database in memory, which has none).
pub fn wal_file(db: &Db) -> Option<std::path::PathBuf> {
    let options = db.connect_options();
    let file = options.get_filename();
    (file != Path::new(":memory:")).then(|| {
        let mut wal = file.as_os_str().to_owned();
        wal.push("-wal");
        std::path::PathBuf::from(wal)
    })
}

/// The page size of a new database: 16 KiB rather than SQLite's 4 KiB. A restore writes each page it
/// fills to the WAL with its own system call, and a Confluence page's row (~2.8 KB of body) filled
/// most of a 4 KiB page on its own; with 16 KiB pages a medium restore's writes took ~25 % less
/// time and its commits half (docs/PERFORMANCE.md). SQLite fixes the page size when it creates the
/// file; an existing database keeps its own (docs/configuration.md tells how to convert one).
pub const PAGE_SIZE: u32 = 16 * 1024;

/// How long a write waits for another connection's write transaction before failing with "database
/// is locked" (`wait_for_the_writer`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a waiting write sleeps between its tries to take the write lock.
const BUSY_STEP: Duration = Duration::from_millis(2);

/// SQLite's busy handler for every pooled connection: try again every `BUSY_STEP` for up to
/// `BUSY_TIMEOUT`. SQLite's own (`busy_timeout`) sleeps in steps that grow to 100 ms, so a write
/// that waited for a restore's long transaction — a second restore's validation, a job being
/// marked started — woke up to 100 ms after that transaction had committed. It runs on the
/// connection's own thread; `count` is the number of tries so far in this wait.
extern "C" fn wait_for_the_writer(_: *mut std::ffi::c_void, count: std::ffi::c_int) -> std::ffi::c_int {
    if BUSY_STEP * (count.max(0) as u32) >= BUSY_TIMEOUT {
        return 0;
    }
    std::thread::sleep(BUSY_STEP);
    1
}

/// Installs `wait_for_the_writer` on a new connection.
async fn install_busy_handler(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    #[allow(unsafe_code)]
    // SAFETY: the locked handle is this connection's, and no other thread uses it while it is
    // locked; the handler is a plain function that touches no memory of SQLite's.
    let status = unsafe { rusqlite::ffi::sqlite3_busy_handler(raw.as_ptr(), Some(wait_for_the_writer), std::ptr::null_mut()) };
    if status != rusqlite::ffi::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!("cannot install the busy handler: SQLite error {status}")));
    }
    Ok(())
}

/// Opens the pool: WAL journal (readers never block the writer; its file cut back to
/// `WAL_SIZE_LIMIT`), foreign keys on, a busy handler so concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<Db, StoreError> {
    if !url.starts_with("sqlite:") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // A new database's page size (an existing one keeps its own; see `PAGE_SIZE`).
        .page_size(PAGE_SIZE)
        .journal_mode(SqliteJournalMode::Wal)
        .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // No `cache_size`: SQLite's default page cache (2 MB) per pooled connection. The bulk
        // writers (a restore's transaction, `store::restore::begin_bulk_writes`; the seeder's own
        // connection) enlarge theirs while they write, so idle connections do not each hold a
        // large cache.
        //
        // Replaced by `wait_for_the_writer` once connected; this covers the connection's set-up.
        .busy_timeout(BUSY_TIMEOUT)
        // Rows a query's connection thread may run ahead of its reader (sqlx's default: 50): a
        // deeper queue lets each side of a long query work in longer stretches instead of waking
        // the other for nearly every row. (A full backup's reads no longer come this way; see
        // `backup_snapshot`.)
        .row_buffer_size(ROW_BUFFER)
        // sqlx warns about a statement running over a second by default, counting the time its
        // reader takes: a query streamed to a job (a site's digest, the blob hashes an unchanged
        // backup marks used) runs for as long as the job works through it, which is not slow, and
        // would warn on every mid-sized site. Half a minute still catches a stuck query.
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| Box::pin(install_busy_handler(conn)))
        .connect_with(options)
        .await?;
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
mod connection_tests {
    use super::*;
    use sqlx::Connection;

    /// A new database in a directory of its own (kept while the directory lives).
    async fn new_database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&default_url(dir.path())).await.unwrap();
        (dir, db)
    }

    /// A transaction larger than the limit grows the WAL; once it is checkpointed, the next write
    /// starts the WAL over and cuts its file back to the limit.
    #[tokio::test]
    async fn the_wal_file_is_cut_back_after_a_large_transaction() {
        let (dir, db) = new_database().await;
        let wal = wal_file(&db).unwrap();
        assert_eq!(wal, dir.path().join("lifeboat.db-wal"));
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

    #[tokio::test]
    async fn a_new_database_has_the_larger_page_size() {
        let (_dir, db) = new_database().await;
        let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&db).await.unwrap();
        assert_eq!(size, PAGE_SIZE as i64);
    }

    /// A write that waited for another connection's transaction goes ahead within milliseconds of
    /// its commit. With SQLite's own busy handler it went ~90 ms late here: after ~330 ms of
    /// waiting, that handler sleeps 100 ms between tries.
    #[tokio::test]
    async fn a_waiting_write_goes_ahead_soon_after_the_other_commits() {
        let (_dir, db) = new_database().await;
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&db).await.unwrap();
        let mut holder = db.acquire().await.unwrap();
        let mut tx = holder.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await.unwrap();
        let waiter = tokio::spawn({
            let db = db.clone();
            async move {
                sqlx::query("INSERT INTO t VALUES (2)").execute(&db).await.unwrap();
                std::time::Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_millis(340)).await;
        tx.commit().await.unwrap();
        let committed = std::time::Instant::now();
        let went_ahead = waiter.await.unwrap();
        let late = went_ahead.saturating_duration_since(committed);
        assert!(late < Duration::from_millis(40), "the waiting write went ahead {late:?} after the commit");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&db).await.unwrap();
        assert_eq!(n, 2);
    }

    /// The handler gives up once `BUSY_TIMEOUT` has passed in tries.
    #[test]
    fn the_busy_handler_gives_up_after_the_timeout() {
        let tries = (BUSY_TIMEOUT.as_millis() / BUSY_STEP.as_millis()) as std::ffi::c_int;
        assert_eq!(wait_for_the_writer(std::ptr::null_mut(), tries), 0);
        assert_eq!(wait_for_the_writer(std::ptr::null_mut(), 0), 1);
    }
}
