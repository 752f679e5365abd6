//! What a full backup reads: one read snapshot of the database, on a thread of its own, and the
//! queries of every kind of record it writes.
//!
//! A full backup reads every row of an app. Through sqlx each row was copied into a row object on
//! its connection's thread and handed to the job one at a time; both threads spent more time on
//! that hand-off (copies, wake-ups, a mutex per row) than SQLite spent reading (docs/PERFORMANCE.md).
//! Here a rusqlite connection (the same libsqlite3 as sqlx) on its own thread reads rows straight
//! into their archive records and hands them over in batches: entity records already encoded as
//! NDJSON lines (so the job only compresses them, and every record is freed on the thread that
//! made it), attachment records as values (the job still copies their blobs).
//!
//! Every read runs inside one read transaction, so all of them see the database as it was at the
//! snapshot's first read, while the apps go on writing (WAL mode).

use std::sync::mpsc;

use rusqlite::{Connection, OpenFlags, Row, Statement};
use serde::Serialize;
use tokio::sync::{mpsc as async_mpsc, oneshot};

use super::{Db, StoreError, BUSY_TIMEOUT};
use crate::archive::records::*;
use crate::model::Product;

/// What a backup covers, owned (the snapshot's thread keeps it while a query runs).
#[derive(Clone, Debug)]
pub struct BackupScope {
    pub cloud_id: String,
    pub product: Product,
    /// Confluence: personal spaces too.
    pub personal: bool,
}

/// Spaces in scope, as a condition on `s` (a confluence_spaces row). Binds of every backup query:
/// ?1 cloud id, ?2 personal spaces included, ?3 product.
pub(crate) const SPACE_SCOPE: &str = "s.cloud_id = ?1 AND (s.space_type = 'global' OR ?2)";

/// Groups in scope: those with access to the app (a denied grant is no access).
pub(crate) const GROUP_SCOPE: &str =
    "SELECT DISTINCT a.group_id FROM app_access a WHERE a.cloud_id = ?1 AND a.product = ?3 AND a.state <> 'DENIED'";

/// Encoded records handed over at a time: the lines of one batch end past this many bytes.
const BATCH_BYTES: usize = 512 * 1024;
/// Attachment records, or blob hashes, handed over at a time.
const BATCH_ROWS: usize = 512;
/// Batches a query may read ahead of the job taking them (bounds memory to a few MB a query).
const BATCHES_AHEAD: usize = 4;

/// Records of one kind, encoded as NDJSON lines (each ending in `\n`).
#[derive(Debug)]
pub struct EncodedRecords {
    pub lines: Vec<u8>,
    pub records: u64,
}

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// A read transaction on its own connection and thread; reads are sent to it as jobs and run one
/// at a time, so a stream must be read to its end (or dropped) before the next read can start.
/// Dropping the snapshot ends the transaction and the thread; `close` also waits for that. Either
/// stops a read still running (its stream ends with an error): a backup that failed or was
/// cancelled mid-query does not wait for the query — sorting every page of a large site, say —
/// to reach its next batch.
pub struct Snapshot {
    /// `None` once closed.
    jobs: Option<mpsc::Sender<Job>>,
    closed: Option<oneshot::Receiver<()>>,
    stop: Stop,
}

/// Stops the snapshot's thread: no queued read starts, and the running one is interrupted.
struct Stop {
    stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    interrupt: rusqlite::InterruptHandle,
}

impl Stop {
    fn now(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        // A no-op when no statement runs; a read that the thread starts just after the flag was
        // read as unset runs to its end (its stream, already dropped, stops it at its next batch).
        self.interrupt.interrupt();
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if self.jobs.is_some() {
            self.stop.now();
        }
    }
}

fn gone() -> StoreError {
    StoreError::Snapshot("the backup's snapshot reader stopped".into())
}

/// A snapshot's SQLite error, labelled as the snapshot reader's (not the bulk loader's, which
/// `StoreError`'s `From<rusqlite::Error>` would say).
fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Snapshot(e.to_string())
}

/// A query's rows, a batch at a time, from the snapshot's thread.
pub struct Batches<B> {
    rx: async_mpsc::Receiver<Result<Option<B>, StoreError>>,
    ended: bool,
}

impl<B> Batches<B> {
    /// The next batch; `None` once every row is read. A reader that stopped before its end marker
    /// (a panic on its thread) is an error, never a short list of records.
    pub async fn next(&mut self) -> Result<Option<B>, StoreError> {
        if self.ended {
            return Ok(None);
        }
        let next = self.rx.recv().await;
        self.ended = !matches!(next, Some(Ok(Some(_))));
        next.unwrap_or_else(|| Err(gone()))
    }
}

impl<T: Send + 'static> Batches<Vec<T>> {
    /// The rows one at a time, as a stream.
    pub fn into_rows(self) -> impl futures_util::Stream<Item = Result<T, StoreError>> + Send {
        use futures_util::{StreamExt, TryStreamExt};
        futures_util::stream::try_unfold(self, |mut batches| async move {
            Ok::<_, StoreError>(batches.next().await?.map(|b| (b, batches)))
        })
            .map_ok(|batch| futures_util::stream::iter(batch.into_iter().map(Ok::<T, StoreError>)))
            .try_flatten()
            .boxed()
    }
}

impl Snapshot {
    /// Opens a connection to the pool's database file and takes the snapshot (its first read).
    pub async fn open(db: &Db) -> Result<Snapshot, StoreError> {
        let path = db.connect_options().get_filename().to_path_buf();
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, opened) = oneshot::channel::<Result<rusqlite::InterruptHandle, rusqlite::Error>>();
        let (on_close, closed) = oneshot::channel();
        let stopping = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stopping.clone();
        std::thread::Builder::new()
            .name("lifeboat-snapshot".into())
            .spawn(move || {
                let conn = match begin(&path) {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                if ready.send(Ok(conn.get_interrupt_handle())).is_err() {
                    return;
                }
                for job in queue {
                    if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    job(&conn);
                }
                drop(conn);
                let _ = on_close.send(());
            })
            .map_err(|e| StoreError::Snapshot(format!("cannot start the snapshot reader: {e}")))?;
        let interrupt = opened.await.map_err(|_| gone())?.map_err(failed)?;
        Ok(Snapshot { jobs: Some(jobs), closed: Some(closed), stop: Stop { stopping, interrupt } })
    }

    /// Stops any read still running, ends the transaction and waits until the thread has closed
    /// its connection, so that what they held is free before the job ends (the job runner hands
    /// free memory back to the system then, `jobs::give_back_free_memory`; memory freed later
    /// stays resident until the next job's end). Called once the backup's reads are done with,
    /// whichever way: what still runs then has no reader.
    pub async fn close(mut self) {
        self.stop.now();
        self.jobs = None;
        if let Some(closed) = self.closed.take() {
            let _ = closed.await;
        }
    }

    /// Runs `f` on the snapshot's thread and returns its answer.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(Box::new(move |conn| {
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?.map_err(failed)
    }

    /// Streams `sql`'s rows in batches: `add` puts a row into the batch, `full` says when it goes.
    /// The query stops when the batches are dropped.
    fn stream<B: Send + 'static>(
        &self,
        sql: String,
        scope: &BackupScope,
        new_batch: impl Fn() -> B + Send + 'static,
        add: impl Fn(&mut B, &Row<'_>) -> rusqlite::Result<()> + Send + 'static,
        full: impl Fn(&B) -> bool + Send + 'static,
    ) -> Batches<B> {
        let (tx, rx) = async_mpsc::channel(BATCHES_AHEAD);
        let scope = scope.clone();
        let job: Job = Box::new(move |conn| {
            let run = || -> rusqlite::Result<()> {
                let mut stmt = conn.prepare(&sql)?;
                bind_scope(&mut stmt, &scope)?;
                let mut rows = stmt.raw_query();
                let mut batch = new_batch();
                let mut empty = true;
                while let Some(row) = rows.next()? {
                    add(&mut batch, row)?;
                    empty = false;
                    if full(&batch) {
                        if tx.blocking_send(Ok(Some(std::mem::replace(&mut batch, new_batch())))).is_err() {
                            return Ok(());
                        }
                        empty = true;
                    }
                }
                if !empty && tx.blocking_send(Ok(Some(batch))).is_err() {
                    return Ok(());
                }
                let _ = tx.blocking_send(Ok(None));
                Ok(())
            };
            if let Err(e) = run() {
                let _ = tx.blocking_send(Err(failed(e)));
            }
        });
        // A snapshot whose thread is gone drops the job, and with it the sender: `next` says so.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
        Batches { rx, ended: false }
    }

    /// The records of an entity kind (every kind but attachments), encoded, in the archive's order.
    pub fn encoded_records(&self, kind: &'static str, scope: &BackupScope) -> Batches<EncodedRecords> {
        self.stream(
            entity_sql(kind),
            scope,
            // Room for a batch and its last record, most often: no copy as the lines grow.
            || EncodedRecords { lines: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 4), records: 0 },
            move |batch: &mut EncodedRecords, row| {
                encode_row(kind, row, &mut batch.lines)?;
                batch.lines.push(b'\n');
                batch.records += 1;
                Ok(())
            },
            |batch| batch.lines.len() >= BATCH_BYTES,
        )
    }

    /// The app's attachment records in scope, by id, without their bytes' outcome (not copied yet).
    pub fn attachments(&self, scope: &BackupScope) -> Batches<Vec<AttachmentRecord>> {
        let owner = match scope.product {
            Product::Jira => "a.issue_id",
            Product::Confluence => "a.page_id",
        };
        let sql = format!(
            "SELECT a.attachment_id, {owner}, a.filename, a.content_type, a.size, a.sha256, a.author_email, a.created_at
             {} ORDER BY a.attachment_id",
            attachments_in_scope(scope.product)
        );
        self.stream(
            sql,
            scope,
            || Vec::with_capacity(BATCH_ROWS),
            |batch: &mut Vec<AttachmentRecord>, r| {
                batch.push(AttachmentRecord {
                    id: r.get(0)?,
                    owner_id: r.get(1)?,
                    filename: r.get(2)?,
                    content_type: r.get(3)?,
                    size: r.get::<_, i64>(4)?.max(0) as u64,
                    sha256: r.get(5)?,
                    author_email: r.get(6)?,
                    created_at: r.get(7)?,
                    bytes_included: false,
                    missing_reason: None,
                });
                Ok(())
            },
            |batch| batch.len() >= BATCH_ROWS,
        )
    }

    /// The distinct SHA-256s of the app's attachments in scope.
    pub fn distinct_blobs(&self, scope: &BackupScope) -> Batches<Vec<String>> {
        self.stream(
            distinct_blobs_sql(scope.product),
            scope,
            || Vec::with_capacity(BATCH_ROWS),
            |batch: &mut Vec<String>, r| {
                batch.push(r.get(0)?);
                Ok(())
            },
            |batch| batch.len() >= BATCH_ROWS,
        )
    }

    /// The bytes of the app's attachments in scope.
    pub async fn attachment_bytes(&self, scope: &BackupScope) -> Result<u64, StoreError> {
        let sql = format!("SELECT COALESCE(SUM(a.size), 0) {}", attachments_in_scope(scope.product));
        let scope = scope.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare(&sql)?;
            bind_scope(&mut stmt, &scope)?;
            let mut rows = stmt.raw_query();
            let bytes: i64 = match rows.next()? {
                Some(r) => r.get(0)?,
                None => 0,
            };
            Ok(bytes.max(0) as u64)
        })
        .await
    }
}

/// The distinct SHA-256s of an app's attachments in scope (binds ?1 cloud id, ?2 personal spaces).
pub(crate) fn distinct_blobs_sql(product: Product) -> String {
    format!("SELECT DISTINCT a.sha256 {}", attachments_in_scope(product))
}

/// Opens a read-only connection and starts the read transaction at its first read.
fn begin(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Read-write flags (a read-only connection cannot open a WAL database whose shared-memory file
    // it may not write), but nothing is written.
    conn.execute_batch("PRAGMA query_only = ON; BEGIN")?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    Ok(conn)
}

/// Binds a backup query's parameters (?1 cloud id, ?2 personal spaces included, ?3 product), as
/// many as it uses.
fn bind_scope(stmt: &mut Statement<'_>, scope: &BackupScope) -> rusqlite::Result<()> {
    let n = stmt.parameter_count();
    if n >= 1 {
        stmt.raw_bind_parameter(1, &scope.cloud_id)?;
    }
    if n >= 2 {
        stmt.raw_bind_parameter(2, scope.personal)?;
    }
    if n >= 3 {
        stmt.raw_bind_parameter(3, scope.product.as_str())?;
    }
    Ok(())
}

/// The app's attachments in scope, as `FROM … WHERE …` over `a`; binds are ?1 cloud id, ?2 personal
/// spaces included.
pub(crate) fn attachments_in_scope(product: Product) -> String {
    match product {
        Product::Jira => "FROM attachments a WHERE a.cloud_id = ?1 AND a.product = 'JIRA'".to_owned(),
        Product::Confluence => format!(
            "FROM attachments a JOIN confluence_pages g ON g.page_id = a.page_id
               JOIN confluence_spaces s ON s.space_id = g.space_id WHERE {SPACE_SCOPE}"
        ),
    }
}

fn pages_tree() -> String {
    format!(
        "WITH RECURSIVE tree(page_id, depth) AS (
             SELECT g.page_id, 0 FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id
              WHERE {SPACE_SCOPE} AND g.parent_id IS NULL
             UNION ALL
             SELECT c.page_id, t.depth + 1 FROM confluence_pages c JOIN tree t ON c.parent_id = t.page_id)"
    )
}

/// The query of an entity kind; its columns are its record's fields in order (`encode_row`).
fn entity_sql(kind: &str) -> String {
    match kind {
        PROJECTS => "SELECT project_id, project_key, name, description, next_issue_number, created_at
                       FROM jira_projects WHERE cloud_id = ?1 ORDER BY project_key"
            .into(),
        ISSUES => "SELECT i.issue_id, i.project_id, i.number, i.summary, i.description, i.status, i.reporter_email,
                          i.created_at, i.updated_at
                     FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id
                    WHERE p.cloud_id = ?1 ORDER BY i.project_id, i.number"
            .into(),
        ISSUE_COMMENTS => "SELECT c.comment_id, c.issue_id, c.author_email, c.body, c.created_at
                             FROM jira_comments c JOIN jira_issues i ON i.issue_id = c.issue_id
                             JOIN jira_projects p ON p.project_id = i.project_id
                            WHERE p.cloud_id = ?1 ORDER BY c.issue_id, c.created_at, c.comment_id"
            .into(),
        SPACES => format!(
            "SELECT s.space_id, s.space_key, s.name, s.space_type, u.email, s.created_with_app, s.created_at
               FROM confluence_spaces s LEFT JOIN users u ON u.account_id = s.owner_account_id
              WHERE {SPACE_SCOPE} ORDER BY s.space_key"
        ),
        PAGES => format!(
            "{} SELECT g.page_id, g.space_id, g.parent_id, g.title, g.body, g.version, g.position, g.author_email,
                       g.created_at, g.updated_at
                  FROM tree t JOIN confluence_pages g ON g.page_id = t.page_id ORDER BY t.depth, g.space_id, g.page_id",
            pages_tree()
        ),
        PAGE_COMMENTS => format!(
            "SELECT c.comment_id, c.page_id, c.author_email, c.body, c.created_at
               FROM confluence_comments c JOIN confluence_pages g ON g.page_id = c.page_id
               JOIN confluence_spaces s ON s.space_id = g.space_id
              WHERE {SPACE_SCOPE} ORDER BY c.page_id, c.created_at, c.comment_id"
        ),
        USERS => format!(
            "SELECT u.email, u.display_name, u.active FROM users u
              WHERE u.account_id IN (SELECT account_id FROM group_members WHERE group_id IN ({GROUP_SCOPE}))
                 OR u.account_id IN (SELECT s.owner_account_id FROM confluence_spaces s
                                      WHERE ?3 = 'CONFLUENCE' AND {SPACE_SCOPE})
              ORDER BY u.email"
        ),
        GROUPS => format!("SELECT name, custom FROM groups WHERE group_id IN ({GROUP_SCOPE}) ORDER BY name"),
        MEMBERSHIPS => format!(
            "SELECT g.name, u.email FROM group_members m JOIN groups g ON g.group_id = m.group_id
               JOIN users u ON u.account_id = m.account_id
              WHERE m.group_id IN ({GROUP_SCOPE}) ORDER BY g.name, u.email"
        ),
        ACCESS => "SELECT g.name, a.role, a.state FROM app_access a JOIN groups g ON g.group_id = a.group_id
                    WHERE a.cloud_id = ?1 AND a.product = ?3 AND a.state <> 'DENIED' ORDER BY g.name, a.role"
            .into(),
        other => unreachable!("no query for kind {other}"),
    }
}

/// Appends a row of `entity_sql(kind)` to `out` as its record's JSON (no newline).
fn encode_row(kind: &str, r: &Row<'_>, out: &mut Vec<u8>) -> rusqlite::Result<()> {
    fn json(out: &mut Vec<u8>, rec: &impl Serialize) -> rusqlite::Result<()> {
        serde_json::to_writer(out, rec).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
    match kind {
        PROJECTS => json(
            out,
            &ProjectRecord {
                id: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                description: r.get(3)?,
                next_issue_number: r.get(4)?,
                created_at: r.get(5)?,
            },
        ),
        ISSUES => json(
            out,
            &IssueRecord {
                id: r.get(0)?,
                project_id: r.get(1)?,
                number: r.get(2)?,
                summary: r.get(3)?,
                description: r.get(4)?,
                status: r.get(5)?,
                reporter_email: r.get(6)?,
                created_at: r.get(7)?,
                updated_at: r.get(8)?,
            },
        ),
        ISSUE_COMMENTS | PAGE_COMMENTS => json(
            out,
            &CommentRecord { id: r.get(0)?, parent_id: r.get(1)?, author_email: r.get(2)?, body: r.get(3)?, created_at: r.get(4)? },
        ),
        SPACES => json(
            out,
            &SpaceRecord {
                id: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                space_type: r.get(3)?,
                owner_email: r.get(4)?,
                created_with_app: r.get(5)?,
                created_at: r.get(6)?,
            },
        ),
        PAGES => json(
            out,
            &PageRecord {
                id: r.get(0)?,
                space_id: r.get(1)?,
                parent_id: r.get(2)?,
                title: r.get(3)?,
                body: r.get(4)?,
                version: r.get(5)?,
                position: r.get(6)?,
                author_email: r.get(7)?,
                created_at: r.get(8)?,
                updated_at: r.get(9)?,
            },
        ),
        USERS => json(out, &UserRecord { email: r.get(0)?, display_name: r.get(1)?, active: r.get(2)? }),
        GROUPS => json(out, &GroupRecord { name: r.get(0)?, custom: r.get(1)? }),
        MEMBERSHIPS => json(out, &MembershipRecord { group: r.get(0)?, email: r.get(1)? }),
        ACCESS => json(out, &AccessRecord { group: r.get(0)?, role: r.get(1)?, state: r.get(2)? }),
        other => unreachable!("no record for kind {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::BlobStore;
    use crate::service::identity::open_database;
    use crate::service::seed::{seed, SeedOptions};
    use crate::store::platform::app_counts;

    async fn seeded() -> (tempfile::TempDir, Db, String) {
        let dir = tempfile::tempdir().unwrap();
        let db = open_database(&crate::store::default_url(dir.path())).await.unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let opts = SeedOptions {
            org: "Snapshots".into(),
            site: "s".into(),
            jira_projects: 2,
            issues: 40,
            comments: 30,
            spaces: 2,
            pages: 25,
            attachments: 6,
            attachment_size: 256,
            users: 6,
            groups: 2,
            seed: 9,
        };
        let cloud_id = seed(&db, &blobs, &opts, &|_| {}).await.unwrap().cloud_id;
        (dir, db, cloud_id)
    }

    fn scope(cloud_id: &str, product: Product) -> BackupScope {
        BackupScope { cloud_id: cloud_id.into(), product, personal: true }
    }

    /// Every line of a kind's records, parsed.
    async fn lines(snapshot: &Snapshot, kind: &'static str, scope: &BackupScope) -> Vec<serde_json::Value> {
        let mut batches = snapshot.encoded_records(kind, scope);
        let mut out = Vec::new();
        while let Some(batch) = batches.next().await.unwrap() {
            let text = std::str::from_utf8(&batch.lines).unwrap();
            assert!(text.ends_with('\n'));
            let parsed: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(parsed.len() as u64, batch.records);
            out.extend(parsed);
        }
        out
    }

    /// A comment added and attachments grown after the snapshot opened are not in what it reads;
    /// a snapshot opened after them sees them.
    #[tokio::test]
    async fn reads_see_the_database_as_it_was_when_the_snapshot_opened() {
        let (_dir, db, cloud_id) = seeded().await;
        let jira = scope(&cloud_id, Product::Jira);
        let before = Snapshot::open(&db).await.unwrap();
        let comments = lines(&before, ISSUE_COMMENTS, &jira).await.len();
        let bytes = before.attachment_bytes(&jira).await.unwrap();

        sqlx::query(
            "INSERT INTO jira_comments (comment_id, issue_id, body, created_at)
             SELECT 'late-comment', issue_id, 'late', '2026-12-03T00:00:00Z' FROM jira_issues LIMIT 1",
        )
        .execute(&db)
        .await
        .unwrap();
        let grown = sqlx::query("UPDATE attachments SET size = size + 1000 WHERE cloud_id = ? AND product = 'JIRA'")
            .bind(&cloud_id)
            .execute(&db)
            .await
            .unwrap()
            .rows_affected();
        assert!(grown > 0);

        let again = lines(&before, ISSUE_COMMENTS, &jira).await;
        assert_eq!(again.len(), comments);
        assert!(again.iter().all(|c| c["id"] != "late-comment"));
        assert_eq!(before.attachment_bytes(&jira).await.unwrap(), bytes);

        let after = Snapshot::open(&db).await.unwrap();
        let now = lines(&after, ISSUE_COMMENTS, &jira).await;
        assert_eq!(now.len(), comments + 1);
        assert!(now.iter().any(|c| c["id"] == "late-comment"));
        assert_eq!(after.attachment_bytes(&jira).await.unwrap(), bytes + 1000 * grown);
    }

    /// Every kind reads back as its records, as many as the app has; pages come parents first;
    /// attachments and their distinct blobs agree.
    #[tokio::test]
    async fn every_kind_reads_back_as_its_records() {
        let (_dir, db, cloud_id) = seeded().await;
        let snapshot = Snapshot::open(&db).await.unwrap();
        for product in Product::ALL {
            let scope = scope(&cloud_id, product);
            let counts = app_counts(&db, &cloud_id, product).await.unwrap();
            let kinds: &[&'static str] = match product {
                Product::Jira => &[PROJECTS, ISSUES, ISSUE_COMMENTS],
                Product::Confluence => &[SPACES, PAGES, PAGE_COMMENTS],
            };
            for (kind, count_kind) in kinds.iter().zip(crate::store::platform::count_kinds(product)) {
                let records = lines(&snapshot, kind, &scope).await;
                assert_eq!(records.len() as u64, counts[*count_kind], "{kind}");
                assert!(!records.is_empty(), "{kind}");
                for r in &records {
                    let ok = match *kind {
                        PROJECTS => serde_json::from_value::<ProjectRecord>(r.clone()).is_ok(),
                        ISSUES => serde_json::from_value::<IssueRecord>(r.clone()).is_ok(),
                        SPACES => serde_json::from_value::<SpaceRecord>(r.clone()).is_ok(),
                        PAGES => serde_json::from_value::<PageRecord>(r.clone()).is_ok(),
                        _ => serde_json::from_value::<CommentRecord>(r.clone()).is_ok(),
                    };
                    assert!(ok, "{kind}: {r}");
                }
                if *kind == PAGES {
                    let mut seen = std::collections::HashSet::new();
                    for p in &records {
                        if let Some(parent) = p["parentId"].as_str() {
                            assert!(seen.contains(parent), "page {} comes before its parent", p["id"]);
                        }
                        seen.insert(p["id"].as_str().unwrap().to_owned());
                    }
                }
            }
            for kind in DIRECTORY_KINDS {
                let records = lines(&snapshot, kind, &scope).await;
                assert!(!records.is_empty(), "{product:?} {kind}");
            }
            let mut attachments = snapshot.attachments(&scope);
            let mut all = Vec::new();
            while let Some(batch) = attachments.next().await.unwrap() {
                all.extend(batch);
            }
            assert_eq!(all.len() as u64, counts["attachments"]);
            let mut hashes: Vec<String> = futures_util::TryStreamExt::try_collect(snapshot.distinct_blobs(&scope).into_rows()).await.unwrap();
            hashes.sort();
            let mut expected: Vec<String> = all.iter().map(|a| a.sha256.clone()).collect();
            expected.sort();
            expected.dedup();
            assert_eq!(hashes, expected);
            assert_eq!(snapshot.attachment_bytes(&scope).await.unwrap(), all.iter().map(|a| a.size).sum::<u64>());
        }
    }

    /// The joins from a site's spaces to their pages' comments and attachments read only the
    /// index of a space's pages (migration 0010), not every page's row with its body.
    #[tokio::test]
    async fn joins_through_pages_read_the_index_only() {
        let (_dir, db, _) = seeded().await;
        let attachments = format!("SELECT a.attachment_id {}", attachments_in_scope(Product::Confluence));
        for sql in [entity_sql(PAGE_COMMENTS), attachments] {
            let plan = explain(&db, &sql).await;
            assert!(plan.iter().any(|d| d.contains("COVERING INDEX confluence_pages_space")), "{sql}\n{plan:#?}");
        }
    }

    /// The details of `sql`'s query plan (its binds set to some site's Confluence scope).
    async fn explain(db: &Db, sql: &str) -> Vec<String> {
        use sqlx::Row;
        sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .bind("cloud")
            .bind(true)
            .bind("CONFLUENCE")
            .fetch_all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect()
    }

    /// Once `close` returns, the snapshot no longer holds its read transaction: a checkpoint can
    /// copy the whole WAL back into the database (the snapshot's reader kept it from the frames
    /// written after its first read).
    #[tokio::test]
    async fn close_ends_the_read_transaction() {
        let (_dir, db, cloud_id) = seeded().await;
        let snapshot = Snapshot::open(&db).await.unwrap();
        sqlx::query("UPDATE jira_projects SET name = name || ' (renamed)' WHERE cloud_id = ?").bind(&cloud_id).execute(&db).await.unwrap();
        // (busy, frames in the WAL, frames checkpointed); PASSIVE does not wait for readers.
        let (_, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&db).await.unwrap();
        assert!(done < log, "the open snapshot holds the WAL: {done} of {log} frames checkpointed");
        snapshot.close().await;
        let (_, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&db).await.unwrap();
        assert_eq!(done, log);
    }

    /// Closing the snapshot stops a read still running (here one that would take many seconds to
    /// its first row) instead of waiting for it; the read's stream ends with an error.
    #[tokio::test]
    async fn close_stops_a_running_read() {
        let (_dir, db, cloud_id) = seeded().await;
        let snapshot = Snapshot::open(&db).await.unwrap();
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000000) SELECT max(x) FROM c";
        let mut batches = snapshot.stream(endless.into(), &scope(&cloud_id, Product::Jira), Vec::new, |b: &mut Vec<i64>, r| {
            b.push(r.get(0)?);
            Ok(())
        }, |_| false);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        tokio::time::timeout(std::time::Duration::from_secs(5), snapshot.close()).await.expect("closed without waiting for the read");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
        assert!(matches!(batches.next().await, Err(StoreError::Snapshot(m)) if m.contains("interrupt")));
    }

    /// A reader that stops before its end marker (its thread panicked) is an error, never a short
    /// list that would make a backup with records missing.
    #[tokio::test]
    async fn a_reader_stopping_before_its_end_is_an_error() {
        let (tx, rx) = async_mpsc::channel(4);
        tx.send(Ok(Some(vec![1, 2]))).await.unwrap();
        drop(tx);
        let mut batches = Batches { rx, ended: false };
        assert_eq!(batches.next().await.unwrap(), Some(vec![1, 2]));
        assert!(matches!(batches.next().await, Err(StoreError::Snapshot(_))));
        assert_eq!(batches.next().await.unwrap(), None);

        let (tx, rx) = async_mpsc::channel(4);
        tx.send(Ok(Some(vec![3]))).await.unwrap();
        tx.send(Ok(None)).await.unwrap();
        drop(tx);
        let mut batches = Batches { rx, ended: false };
        assert_eq!(batches.next().await.unwrap(), Some(vec![3]));
        assert_eq!(batches.next().await.unwrap(), None);
    }
}
