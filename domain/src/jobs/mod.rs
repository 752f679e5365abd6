//! Background work: the durable job runner (backups, exports, imports), the scheduler (policies'
//! schedules and retries) and the retention sweeper. Each is a loop that ends with `shutdown`.
//!
//! A job is claimed with a lease and kept alive by heartbeats; a job whose process died (its lease
//! ran out, or — at start, with SQLite, which one process owns — any job left RUNNING) is ended
//! FAILED "interrupted", never left IN_PROGRESS.

use std::sync::Arc;

use chrono::Utc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::{BackupOrigin, PolicyStatus};
use crate::rules::schedule;
use crate::service::backup::run::{self, end_backup, JobControl, RunError};
use crate::service::backup::{retention, transfer};
use crate::service::Backend;
use crate::store::backup as q;
use crate::store::jobs::{self as jq, Job, JobKind};

/// Starts the runner, the scheduler and the sweeper.
pub fn spawn_all(backend: Backend, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let owner = format!("runner-{}", uuid::Uuid::new_v4());
    vec![
        tokio::spawn(run_jobs(backend.clone(), owner, shutdown.clone())),
        tokio::spawn(run_scheduler(backend.clone(), shutdown.clone())),
        tokio::spawn(run_sweeper(backend, shutdown)),
    ]
}

async fn run_jobs(backend: Backend, owner: String, shutdown: CancellationToken) {
    let settings = backend.backup.settings.jobs.clone();
    if let Err(e) = recover(&backend, &owner, true).await {
        tracing::error!(error = %e, "could not recover interrupted jobs");
    }
    if settings.concurrency == 0 {
        tracing::warn!(
            "backup.jobs.concurrency is 0: this server runs no jobs; queued backups, restores, exports and imports \
             wait, holding their app, until it is raised or they are cancelled"
        );
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let mut last_recovery = std::time::Instant::now();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        if last_recovery.elapsed() >= settings.lease {
            last_recovery = std::time::Instant::now();
            if let Err(e) = recover(&backend, &owner, false).await {
                tracing::error!(error = %e, "could not recover expired jobs");
            }
        }
        while let Ok(permit) = slots.clone().try_acquire_owned() {
            match jq::claim(&backend.db, &owner, settings.lease).await {
                Ok(Some(job)) => {
                    let backend = backend.clone();
                    let owner = owner.clone();
                    tokio::spawn(async move {
                        execute(&backend, &owner, job).await;
                        give_back_free_memory().await;
                        drop(permit);
                        // A free slot: a job queued while every slot was busy starts now.
                        backend.backup.wake_job_runner();
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "could not claim a job");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(settings.poll) => {}
            _ = backend.backup.job_runner_woken() => {}
        }
    }
}

/// Runs one claimed job with a heartbeat that renews its lease and relays cancel requests.
pub async fn execute(backend: &Backend, owner: &str, job: Job) {
    let (token, cancelled_by) = backend.backup.register(&job.subject_id);
    let ctl = JobControl { token: token.clone(), cancelled_by: cancelled_by.clone() };
    let heartbeat = {
        let db = backend.db.clone();
        let job_id = job.job_id.clone();
        let owner = owner.to_owned();
        let settings = backend.backup.settings.jobs.clone();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let handle = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => break,
                    _ = tokio::time::sleep(settings.heartbeat) => {}
                }
                match jq::heartbeat(&db, &job_id, &owner, settings.lease).await {
                    Ok(Some(Some(by))) => {
                        *cancelled_by.lock().expect("lock poisoned") = Some(by);
                        token.cancel();
                    }
                    Ok(Some(None)) => {}
                    Ok(None) => {
                        *cancelled_by.lock().expect("lock poisoned") = Some("the server (the job's lease was lost)".into());
                        token.cancel();
                    }
                    Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                }
            }
        });
        (stop, handle)
    };
    if let Some(by) = &job.cancel_requested {
        backend.backup.cancel_local(&job.subject_id, by);
    }
    tracing::info!(job_id = %job.job_id, kind = job.kind.as_str(), subject = %job.subject_id, "job started");
    // In its own task, so that a panic ends the job (and its heartbeat) instead of leaving the lease
    // renewed forever; the next recovery then ends the subject FAILED.
    let work = {
        let (backend, kind, subject) = (backend.clone(), job.kind, job.subject_id.clone());
        tokio::spawn(async move {
            match kind {
                JobKind::Backup => run::execute(&backend, &subject, &ctl).await,
                JobKind::Export => transfer::execute_export(&backend, &subject, &ctl).await,
                JobKind::Import => transfer::execute_import(&backend, &subject, &ctl).await,
                JobKind::Restore => crate::service::restore::execute(&backend, &subject, &ctl).await,
            }
        })
    };
    let panicked = match work.await {
        Ok(Ok(())) => false,
        Ok(Err(e)) => {
            tracing::error!(job_id = %job.job_id, error = %e, "job ended with an error");
            false
        }
        Err(e) => {
            tracing::error!(job_id = %job.job_id, error = %e, "job panicked");
            true
        }
    };
    heartbeat.0.cancel();
    let _ = heartbeat.1.await;
    backend.backup.unregister(&job.subject_id);
    if panicked {
        // Leave it RUNNING with an expired lease: `recover` ends its subject FAILED.
        let _ = sqlx::query("UPDATE jobs SET lease_expires_at = 0, lease_owner = NULL WHERE job_id = ?")
            .bind(&job.job_id)
            .execute(&backend.db)
            .await;
        return;
    }
    if let Err(e) = jq::finish(&backend.db, &job.job_id).await {
        tracing::error!(job_id = %job.job_id, error = %e, "could not mark the job done");
    }
    tracing::info!(job_id = %job.job_id, "job finished");
}

/// Hands the memory that glibc's malloc holds free back to the system, once a job has ended (before
/// its slot takes the next) and once a restore's bulk writes have. glibc keeps what a thread frees
/// in that thread's arena, and a job allocates on many threads (the runtime's, the blocking pool's,
/// one per SQLite connection for its page cache), so without this the resident set stays near the
/// sum of every arena's own peak: measured at large, a restore's live heap peaked at 68 MB while its
/// resident set reached 225 MB (docs/PERFORMANCE.md). `malloc_trim(0)` walks every arena, releasing
/// whole free pages; it takes milliseconds, so it runs on a blocking thread. Elsewhere than glibc it
/// does nothing. Tested in domain/tests/free_memory.rs (a process of its own: it measures the
/// resident set).
pub async fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[allow(unsafe_code)]
        fn trim() {
            // SAFETY: malloc_trim takes no pointers and touches only glibc's own free lists, which
            // it locks arena by arena as malloc and free do.
            unsafe {
                libc::malloc_trim(0);
            }
        }
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

/// Ends jobs whose process died: their subject FAILED "interrupted", the job DONE. Also ends
/// queued jobs that were cancelled before they started and, at start (`all`), restores left
/// VALIDATING.
pub async fn recover(backend: &Backend, owner: &str, all: bool) -> Result<usize, crate::service::ServiceError> {
    if all {
        // At start (`all`: every running job is another process's), restores an earlier version
        // stored VALIDATING and stopped validating: they have no job.
        let validations = crate::store::restore::fail_interrupted_validations(&backend.db).await?;
        if validations > 0 {
            tracing::warn!(restores = validations, "ended restores interrupted while they were validated");
        }
    }
    let orphans = jq::take_orphans(&backend.db, owner, all).await?;
    let queued = jq::cancelled_queued(&backend.db).await?;
    let n = orphans.len();
    for job in orphans.into_iter().chain(queued) {
        tracing::warn!(job_id = %job.job_id, kind = job.kind.as_str(), subject = %job.subject_id, "ending an interrupted job");
        match job.kind {
            JobKind::Backup => {
                let outcome = match &job.cancel_requested {
                    Some(by) => Err(RunError::Cancelled(by.clone())),
                    None => Err(RunError::Failed {
                        code: "INTERRUPTED",
                        message: "Interrupted: the server stopped while the backup ran".into(),
                    }),
                };
                end_backup(backend, &job.subject_id, outcome).await?;
            }
            JobKind::Restore => crate::service::restore::fail_interrupted(backend, &job.subject_id).await?,
            kind => transfer::fail_interrupted(backend, kind, &job.subject_id).await?,
        }
        jq::finish(&backend.db, &job.job_id).await?;
    }
    Ok(n)
}

async fn run_scheduler(backend: Backend, shutdown: CancellationToken) {
    loop {
        if let Err(e) = schedule_due(&backend).await {
            tracing::error!(error = %e, "scheduler tick failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(backend.backup.settings.scheduler_tick) => {}
        }
    }
}

/// Starts the backups of policies whose scheduled time or retry time has come.
pub async fn schedule_due(backend: &Backend) -> Result<(), crate::service::ServiceError> {
    let now = Utc::now();
    for row in q::due_policies(&backend.db, now).await? {
        let p = &row.policy;
        let retry_due = row.retry_at.is_some_and(|t| t <= now);
        let (attempt, origin_due) = if retry_due { (row.retry_attempt.max(2), row.retry_at) } else { (1, p.next_run_at) };
        match run::start_backup(backend, &row, "scheduler", BackupOrigin::Scheduled, attempt).await {
            Ok(b) => tracing::info!(backup_id = %b.backup_id, policy_id = %p.policy_id, attempt, late_s = run::lateness(origin_due), "scheduled backup started"),
            Err(e) if e.code() == "APP_BUSY" => {
                // Another operation holds the app: try again at the next tick.
                tracing::info!(policy_id = %p.policy_id, "scheduled backup postponed: the app is busy");
                continue;
            }
            Err(e) => tracing::error!(policy_id = %p.policy_id, error = %e, "scheduled backup could not start"),
        }
        if retry_due {
            q::set_policy_retry(&backend.db, &p.policy_id, None, attempt).await?;
        } else {
            let (status, next) = match &p.schedule {
                Some(s) if s.interval == crate::model::Interval::Once => (PolicyStatus::Inactive, None),
                Some(s) => (PolicyStatus::Active, schedule::next_run(s, now)),
                None => (p.status, None),
            };
            q::set_policy_schedule_state(&backend.db, &p.policy_id, status, next).await?;
        }
    }
    Ok(())
}

async fn run_sweeper(backend: Backend, shutdown: CancellationToken) {
    loop {
        match retention::sweep(&backend).await {
            Ok(r) if r.expired > 0 || r.blobs_deleted > 0 => {
                tracing::info!(expired = r.expired, blobs_deleted = r.blobs_deleted, "retention sweep")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(backend.backup.settings.sweep_interval) => {}
        }
    }
}
