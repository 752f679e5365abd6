//! The durable job queue: claim with a lease, renew by heartbeat, finish; recover what a dead
//! process left RUNNING. Times are Unix milliseconds.

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::Row;

use super::backup::{from_ms, ms};
use super::{new_id, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Backup,
    Export,
    Import,
    Restore,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backup => "BACKUP",
            JobKind::Export => "EXPORT",
            JobKind::Import => "IMPORT",
            JobKind::Restore => "RESTORE",
        }
    }

    fn parse(s: &str) -> Option<JobKind> {
        match s {
            "BACKUP" => Some(JobKind::Backup),
            "EXPORT" => Some(JobKind::Export),
            "IMPORT" => Some(JobKind::Import),
            "RESTORE" => Some(JobKind::Restore),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Job {
    pub job_id: String,
    pub kind: JobKind,
    pub subject_id: String,
    pub cancel_requested: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn job_row(r: SqliteRow) -> Result<Job, StoreError> {
    Ok(Job {
        job_id: r.get("job_id"),
        kind: super::parse_col(JobKind::parse(r.get("kind")), "jobs.kind")?,
        subject_id: r.get("subject_id"),
        cancel_requested: r.get("cancel_requested"),
        created_at: from_ms(r.get("created_at")),
    })
}

pub async fn enqueue<'e>(ex: impl SqliteExecutor<'e>, kind: JobKind, subject_id: &str) -> Result<String, StoreError> {
    let id = new_id();
    let now = ms(Utc::now());
    sqlx::query(
        "INSERT INTO jobs (job_id, kind, subject_id, state, run_after, created_at) VALUES (?, ?, ?, 'QUEUED', ?, ?)",
    )
    .bind(&id)
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(now)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(id)
}

/// Claims the oldest due job: one statement, so two runners never take the same job.
pub async fn claim<'e>(
    ex: impl SqliteExecutor<'e>,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Option<Job>, StoreError> {
    let now = Utc::now();
    let row = sqlx::query(
        "UPDATE jobs SET state = 'RUNNING', lease_owner = ?1, lease_expires_at = ?2, heartbeat_at = ?3
          WHERE job_id = (SELECT job_id FROM jobs WHERE state = 'QUEUED' AND run_after <= ?3
                           ORDER BY run_after, job_id LIMIT 1)
         RETURNING *",
    )
    .bind(owner)
    .bind(ms(now) + lease.as_millis() as i64)
    .bind(ms(now))
    .fetch_optional(ex)
    .await?;
    row.map(job_row).transpose()
}

/// Renews a lease; returns who asked to cancel, if anyone. `Err`-free `None` row means the job was
/// taken from this owner (recovered elsewhere): the caller stops.
pub async fn heartbeat<'e>(
    ex: impl SqliteExecutor<'e>,
    job_id: &str,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Option<Option<String>>, StoreError> {
    let now = Utc::now();
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "UPDATE jobs SET lease_expires_at = ?, heartbeat_at = ? WHERE job_id = ? AND lease_owner = ? AND state = 'RUNNING'
         RETURNING cancel_requested",
    )
    .bind(ms(now) + lease.as_millis() as i64)
    .bind(ms(now))
    .bind(job_id)
    .bind(owner)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|(c,)| c))
}

pub async fn finish<'e>(ex: impl SqliteExecutor<'e>, job_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET state = 'DONE', finished_at = ?, lease_owner = NULL WHERE job_id = ?")
        .bind(ms(Utc::now()))
        .bind(job_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Asks a job to stop; a queued one is simply finished. Returns the job, if one was open.
pub async fn request_cancel<'e>(
    ex: impl SqliteExecutor<'e>,
    subject_id: &str,
    by: &str,
) -> Result<Option<(String, bool)>, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "UPDATE jobs SET cancel_requested = ? WHERE subject_id = ? AND state IN ('QUEUED', 'RUNNING')
         RETURNING job_id, state",
    )
    .bind(by)
    .bind(subject_id)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|(id, state)| (id, state == "RUNNING")))
}

/// RUNNING jobs whose lease has run out (or, with `all`, every RUNNING job: at start, with a
/// database only this process uses). They are taken over by `owner` so exactly one runner ends them.
pub async fn take_orphans<'e>(
    ex: impl SqliteExecutor<'e>,
    owner: &str,
    all: bool,
) -> Result<Vec<Job>, StoreError> {
    let rows = sqlx::query(
        "UPDATE jobs SET lease_owner = ?1, lease_expires_at = ?2
          WHERE state = 'RUNNING' AND (?3 OR lease_expires_at < ?2) AND COALESCE(lease_owner, '') <> ?1
         RETURNING *",
    )
    .bind(owner)
    .bind(ms(Utc::now()))
    .bind(all)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(job_row).collect()
}

/// Queued jobs with a cancel request (ended without running).
pub async fn cancelled_queued<'e>(ex: impl SqliteExecutor<'e>) -> Result<Vec<Job>, StoreError> {
    let rows = sqlx::query("SELECT * FROM jobs WHERE state = 'QUEUED' AND cancel_requested IS NOT NULL")
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(job_row).collect()
}
