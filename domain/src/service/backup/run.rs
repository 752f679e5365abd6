//! Backups: starting one (manual or scheduled), cancelling it, and the job that takes it — one
//! consistent snapshot streamed into the archive, attachments copied once per storage.

use crate::service::audit::AuditEvent;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sqlx::SqliteConnection;
use tokio_util::sync::CancellationToken;

use super::blob_index::{blob_key, ListedBlobs, NewBlobs};
use super::{policy_for_admin, storage_by_id};
use crate::archive::manifest::{BlobTotals, ManifestOptions, ManifestSizes, MissingAttachment};
use crate::archive::records::*;
use crate::archive::{backup_dir, blob_path, ArchiveError, ArchiveWriter, Manifest, FORMAT, FORMAT_VERSION};
use crate::model::{
    AppState, Backup, BackupOrigin, BackupSize, BackupStatus, Paged, PageRequest, Progress,
};
use crate::rules::paging::{clamp_limit, clamp_offset};
use crate::service::identity::{require_app_admin, require_org_admin};
use crate::service::platform::{admin_email, begin, commit, paged};
use crate::service::{Backend, ServiceError};
use crate::storage::{Storage, StorageError};
use crate::store::backup::{self as q, BackupResult, PolicyRow};
use crate::store::jobs::{self as jq, JobKind};
use crate::store::backup_snapshot::{distinct_blobs_sql, BackupScope, Snapshot, GROUP_SCOPE};
use crate::store::{new_id, platform as pq, Db};

/// How often a running backup writes its progress and looks at its cancel switch.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

fn backup_not_found() -> ServiceError {
    ServiceError::not_found("BACKUP_NOT_FOUND", "no such backup in this organization")
}

/// Starts a backup of a policy's app: takes the app's lock, records the backup IN_PROGRESS and
/// queues its job, in one transaction. Used by `POST /backups`, the scheduler and retries.
pub(crate) async fn start_backup(
    backend: &Backend,
    policy: &PolicyRow,
    created_by: &str,
    origin: BackupOrigin,
    attempt: i64,
) -> Result<Backup, ServiceError> {
    let p = &policy.policy;
    // Manual and scheduled runs alike: a deactivated app is not backed up (its backups stay).
    let app = pq::find_app(&backend.db, &p.cloud_id, p.product)
        .await?
        .ok_or_else(|| ServiceError::not_found("APP_NOT_FOUND", "the policy's app no longer exists"))?;
    if app.state == AppState::Deactivated {
        return Err(ServiceError::conflict("APP_DEACTIVATED", "the app is deactivated; it cannot be backed up"));
    }
    let settings = &backend.backup.settings;
    let now = q::now_ms();
    let retention = if p.storage_id.is_some() { settings.external_retention } else { settings.managed_retention };
    let backup = Backup {
        backup_id: new_id(),
        policy_id: Some(p.policy_id.clone()),
        cloud_id: p.cloud_id.clone(),
        product: p.product,
        status: BackupStatus::InProgress,
        status_code: None,
        status_message: Some("Queued".into()),
        origin,
        imported_from: None,
        created_at: now,
        created_by: created_by.to_owned(),
        completed_at: None,
        expiry_time: now + chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(14)),
        storage_id: p.storage_id.clone(),
        include_attachments: p.include_attachments,
        include_users_and_groups: p.include_users_and_groups,
        include_personal_spaces: p.include_personal_spaces.unwrap_or(false),
        backup_size: BackupSize::default(),
        counts: BTreeMap::new(),
        missing_attachments: 0,
        progress: Progress::default(),
    };
    let mut tx = begin(&backend.db).await?;
    if !q::try_lock_app(&mut *tx, &p.cloud_id, p.product, "BACKUP", &backup.backup_id).await? {
        return Err(ServiceError::conflict(
            "APP_BUSY",
            format!("a backup or restore of {} on this site is already running; try again when it ends", p.product),
        ));
    }
    q::insert_backup(&mut *tx, &policy.org_id, &backup, attempt).await?;
    jq::enqueue(&mut *tx, JobKind::Backup, &backup.backup_id).await?;
    commit(tx).await?;
    backend.backup.wake_job_runner();
    tracing::info!(backup_id = %backup.backup_id, policy_id = %p.policy_id, ?origin, "backup queued");
    Ok(backup)
}

/// `POST /orgs/{orgId}/backups` (202): a manual run of a policy.
pub async fn create_backup(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    req: crate::model::NewBackup,
) -> Result<Backup, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "backup.create").target(req.policy_id.clone());
    let result = create_backup_unaudited(backend, admin_id, org_id, req).await;
    event.record(&backend.db, result, |x| Some(x.backup_id.clone())).await
}

async fn create_backup_unaudited(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    req: crate::model::NewBackup,
) -> Result<Backup, ServiceError> {
    let db = &backend.db;
    let policy = policy_for_admin(db, admin_id, org_id, &req.policy_id).await?;
    if req.cloud_id.as_deref().is_some_and(|c| c != policy.policy.cloud_id) {
        return Err(ServiceError::validation("CLOUD_ID_MISMATCH", "cloudId is not the site of this policy"));
    }
    let min = backend.backup.settings.min_interval;
    if !min.is_zero() {
        if let Some(last) = q::last_complete_backup_at(db, &policy.policy.policy_id).await? {
            let next = last + chrono::Duration::from_std(min).unwrap_or_default();
            let now = Utc::now();
            if next > now {
                return Err(ServiceError::LimitExceeded {
                    code: "BACKUP_TOO_SOON",
                    message: format!("this policy's last complete backup is too recent; the next one may run after {}", next.to_rfc3339()),
                    retry_after_secs: (next - now).num_seconds().max(1) as u64,
                });
            }
        }
    }
    let email = admin_email(db, admin_id).await?;
    start_backup(backend, &policy, &email, BackupOrigin::Manual, 1).await
}

/// A backup of the org whose app the caller administers.
async fn backup_for_admin(db: &Db, admin_id: &str, org_id: &str, backup_id: &str) -> Result<Backup, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let row = q::find_backup(db, backup_id).await?.filter(|b| b.org_id == org_id).ok_or_else(backup_not_found)?;
    require_app_admin(db, admin_id, org_id, &row.backup.cloud_id, row.backup.product).await?;
    Ok(row.backup)
}

pub async fn get_backup(backend: &Backend, admin_id: &str, org_id: &str, backup_id: &str) -> Result<Backup, ServiceError> {
    backup_for_admin(&backend.db, admin_id, org_id, backup_id).await
}

/// `GET /orgs/{orgId}/policies/{policyId}/backups`, newest first.
pub async fn list_backups(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    policy_id: &str,
    page: PageRequest,
) -> Result<Paged<Backup>, ServiceError> {
    let db = &backend.db;
    policy_for_admin(db, admin_id, org_id, policy_id).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let items = q::list_backups_of_policy(db, policy_id, limit, offset).await?;
    let total = q::count_backups_of_policy(db, policy_id).await?;
    Ok(paged(items, total, offset, limit))
}

/// `POST /orgs/{orgId}/backups/{backupId}/cancel`: a queued backup ends at once; a running one at
/// its next checkpoint (within a second). Either way it ends FAILED, "Cancelled by …".
pub async fn cancel_backup(backend: &Backend, admin_id: &str, org_id: &str, backup_id: &str) -> Result<Backup, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "backup.cancel").target(backup_id);
    let result = cancel_backup_unaudited(backend, admin_id, org_id, backup_id).await;
    event.record(&backend.db, result, |_| None).await
}

async fn cancel_backup_unaudited(backend: &Backend, admin_id: &str, org_id: &str, backup_id: &str) -> Result<Backup, ServiceError> {
    let db = &backend.db;
    let backup = backup_for_admin(db, admin_id, org_id, backup_id).await?;
    if backup.status != BackupStatus::InProgress {
        return Err(ServiceError::conflict("BACKUP_NOT_RUNNING", format!("the backup is {}, not in progress", backup.status)));
    }
    if backup.origin == BackupOrigin::Import {
        return Err(ServiceError::conflict("BACKUP_NOT_CANCELLABLE", "an import runs to its end; it cannot be cancelled"));
    }
    let email = admin_email(db, admin_id).await?;
    match jq::request_cancel(db, backup_id, &email).await? {
        Some((job_id, false)) => {
            end_backup(backend, backup_id, Err(RunError::Cancelled(email))).await?;
            jq::finish(db, &job_id).await?;
        }
        Some((_, true)) => {
            backend.backup.cancel_local(backup_id, &email);
        }
        None => {}
    }
    tracing::info!(backup_id, "backup cancel requested");
    backup_for_admin(db, admin_id, org_id, backup_id).await
}

/// Why a backup did not complete.
#[derive(Debug)]
pub enum RunError {
    Cancelled(String),
    Failed { code: &'static str, message: String },
}

impl RunError {
    fn failed(code: &'static str, message: impl Into<String>) -> RunError {
        RunError::Failed { code, message: message.into() }
    }
}

impl From<ServiceError> for RunError {
    fn from(e: ServiceError) -> Self {
        RunError::failed("INTERNAL_ERROR", e.to_string())
    }
}

impl From<crate::store::StoreError> for RunError {
    fn from(e: crate::store::StoreError) -> Self {
        RunError::failed("DATABASE_ERROR", e.to_string())
    }
}

impl From<ArchiveError> for RunError {
    fn from(e: ArchiveError) -> Self {
        RunError::failed("STORAGE_ERROR", e.to_string())
    }
}

impl From<StorageError> for RunError {
    fn from(e: StorageError) -> Self {
        RunError::failed("STORAGE_ERROR", e.to_string())
    }
}

/// A job's view of its cancel switch (flipped by a cancel request or by losing its lease).
#[derive(Clone)]
pub struct JobControl {
    pub token: CancellationToken,
    pub cancelled_by: Arc<Mutex<Option<String>>>,
}

impl JobControl {
    pub fn check(&self) -> Result<(), RunError> {
        if self.token.is_cancelled() {
            let who = self.cancelled_by.lock().expect("lock poisoned").clone().unwrap_or_else(|| "the server".into());
            return Err(RunError::Cancelled(who));
        }
        Ok(())
    }
}

/// Totals gathered while a backup runs.
#[derive(Default)]
struct Tally {
    data: u64,
    users: u64,
    attachments: u64,
    new_blob_bytes: u64,
    blobs: BlobTotals,
    missing: Vec<MissingAttachment>,
    missing_count: u64,
    done: u64,
    total: u64,
}

struct Checkpoint<'a> {
    db: &'a Db,
    backup_id: &'a str,
    ctl: &'a JobControl,
    last: Instant,
    data_limit: u64,
}

impl Checkpoint<'_> {
    /// Every batch of records passes here (~512 KiB of entity records, or one attachment record):
    /// the data limit is checked each time, so a backup may pass it by up to a batch before it
    /// fails; progress and cancel every half second.
    async fn tick(&mut self, t: &Tally) -> Result<(), RunError> {
        if t.data > self.data_limit {
            return Err(RunError::failed(
                "SIZE_LIMIT_EXCEEDED",
                format!("the app's data is over this product's backup limit of {} bytes", self.data_limit),
            ));
        }
        if self.last.elapsed() >= CHECKPOINT_EVERY {
            self.last = Instant::now();
            self.ctl.check()?;
            let percent = if t.total == 0 { 0 } else { (t.done * 100 / t.total).min(99) as u8 };
            q::set_backup_progress(self.db, self.backup_id, &Progress { percent, items_done: t.done, items_total: t.total })
                .await?;
        }
        Ok(())
    }
}

/// The backup job: runs the backup, then records how it ended and releases the app.
pub async fn execute(backend: &Backend, backup_id: &str, ctl: &JobControl) -> Result<(), ServiceError> {
    let outcome = take_backup(backend, backup_id, ctl).await;
    if let Err(e) = &outcome {
        tracing::warn!(backup_id, error = ?e, "backup did not complete");
    }
    end_backup(backend, backup_id, outcome).await
}

/// Records a backup's end (once: only an IN_PROGRESS backup changes), deletes a failed backup's
/// parts, releases the app's lock, and schedules a retry of a failed scheduled run.
pub(crate) async fn end_backup(
    backend: &Backend,
    backup_id: &str,
    outcome: Result<Finished, RunError>,
) -> Result<(), ServiceError> {
    let db = &backend.db;
    let Some(row) = q::find_backup(db, backup_id).await? else { return Ok(()) };
    let now = Utc::now();
    let empty = BTreeMap::new();
    let (result, failed) = match &outcome {
        Ok(f) => (
            BackupResult {
                status: f.status,
                code: None,
                message: if f.missing > 0 {
                    Some(format!("{} attachment(s) could not be read; their records are in the backup without bytes", f.missing))
                } else {
                    f.reused_from.as_ref().map(|id| format!("Nothing had changed since backup {id}: its records were reused"))
                },
                size: f.size.clone(),
                counts: &f.counts,
                missing_attachments: f.missing,
                completed_at: now,
                change_generation: Some(f.generation),
            },
            false,
        ),
        Err(e) => {
            let (code, message) = match e {
                RunError::Cancelled(who) => ("CANCELLED", format!("Cancelled by {who}")),
                RunError::Failed { code, message } => (*code, message.clone()),
            };
            (
                BackupResult {
                    status: BackupStatus::Failed,
                    code: Some(code),
                    message: Some(message),
                    size: BackupSize::default(),
                    counts: &empty,
                    missing_attachments: 0,
                    completed_at: now,
                    change_generation: None,
                },
                true,
            )
        }
    };
    let mut tx = begin(db).await?;
    let changed = q::finish_backup(&mut *tx, backup_id, &result).await?;
    q::unlock_app(&mut *tx, backup_id).await?;
    if let (true, Some(policy_id)) = (changed, &row.backup.policy_id) {
        if !failed {
            q::set_last_backup_time(&mut *tx, policy_id, row.backup.created_at).await?;
            if row.backup.origin == BackupOrigin::Scheduled {
                q::set_policy_retry(&mut *tx, policy_id, None, 0).await?;
            }
        } else if row.backup.origin == BackupOrigin::Scheduled
            && !matches!(outcome, Err(RunError::Cancelled(_)))
            && row.attempt < backend.backup.settings.retry_attempts as i64
        {
            let at = now + chrono::Duration::from_std(backend.backup.settings.retry_delay).unwrap_or_default();
            q::set_policy_retry(&mut *tx, policy_id, Some(at), row.attempt + 1).await?;
        }
    }
    commit(tx).await?;
    if changed && failed {
        // Parts of a failed backup are useless (there is no manifest); its blobs are left to the GC.
        if let Ok(storage) = storage_by_id(backend, &row.org_id, row.backup.storage_id.as_deref()).await {
            if let Err(e) = storage.delete_prefix(&backup_dir(backup_id)).await {
                tracing::warn!(backup_id, error = %e, "could not delete a failed backup's parts");
            }
        }
    }
    Ok(())
}

/// A completed backup's figures.
pub(crate) struct Finished {
    status: BackupStatus,
    size: BackupSize,
    counts: BTreeMap<String, u64>,
    missing: u64,
    /// The change generation the backup took.
    generation: i64,
    reused_from: Option<String>,
}

async fn take_backup(backend: &Backend, backup_id: &str, ctl: &JobControl) -> Result<Finished, RunError> {
    let db = &backend.db;
    let row = q::find_backup(db, backup_id).await?.ok_or_else(|| RunError::failed("BACKUP_NOT_FOUND", "the backup row is gone"))?;
    let b = row.backup;
    if b.status != BackupStatus::InProgress {
        return Err(RunError::failed("NOT_RUNNING", "the backup already ended"));
    }
    let site = pq::find_site(db, &row.org_id, &b.cloud_id)
        .await?
        .ok_or_else(|| RunError::failed("SITE_NOT_FOUND", "the site no longer exists"))?;
    let app = pq::find_app(db, &b.cloud_id, b.product)
        .await?
        .ok_or_else(|| RunError::failed("APP_NOT_FOUND", "the app no longer exists"))?;
    let storage = storage_by_id(backend, &row.org_id, b.storage_id.as_deref())
        .await
        .map_err(|e| RunError::failed("STORAGE_UNREACHABLE", e.public_message()))?;
    let lock = backend.backup.storage_lock(storage.key());
    let _shared = lock.read().await;
    let (data_limit, attachments_limit) = backend.backup.settings.limits.of(b.product);
    q::set_backup_progress(db, backup_id, &Progress::default()).await?;
    sqlx::query("UPDATE backups SET status_message = NULL WHERE backup_id = ?").bind(backup_id).execute(db).await.map_err(crate::store::StoreError::from)?;

    // Taken before the snapshot: any change from here on marks the app changed in this generation.
    let generation = q::next_change_generation(db, &b.cloud_id, b.product).await?;
    // One read transaction for deciding whether an earlier backup can stand in for this one: its
    // first read (SQLite takes the snapshot there) is the app's change mark.
    let mut snap = db.begin().await.map_err(crate::store::StoreError::from)?;
    let changed_in = q::changed_in(&mut *snap, &b.cloud_id, b.product).await?;
    let scope = BackupScope { cloud_id: b.cloud_id.clone(), product: b.product, personal: b.include_personal_spaces };
    let mut writer = ArchiveWriter::new(storage.clone(), backup_id);
    let unchanged = Unchanged { changed_in, data_limit, attachments_limit };
    let reused = reuse_unchanged(backend, &mut snap, &b, &scope, &storage, &mut writer, &unchanged).await?;
    drop(snap);
    let contents = match reused {
        Some(contents) => contents,
        None => {
            // Everything a full backup records comes from one snapshot of its own, taken now (see
            // `store::backup_snapshot`). A change made since `changed_in` was read is marked in
            // this backup's generation, so the next backup takes the app in full again.
            let snapshot = Snapshot::open(db).await?;
            let contents = take_in_full(backend, &snapshot, &b, &scope, &storage, &mut writer, ctl, (data_limit, attachments_limit)).await;
            snapshot.close().await;
            contents?
        }
    };
    ctl.check()?;
    let status = if contents.missing_count > 0 { BackupStatus::Incomplete } else { BackupStatus::Complete };
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        backup_id: backup_id.to_owned(),
        imported_from: None,
        org_id: row.org_id.clone(),
        cloud_id: b.cloud_id.clone(),
        site_name: site.name,
        product: b.product.as_str().into(),
        plan: app.plan.as_str().into(),
        shard: app.shard,
        options: ManifestOptions {
            include_attachments: b.include_attachments,
            include_users_and_groups: b.include_users_and_groups,
            include_personal_spaces: b.include_personal_spaces,
        },
        created_at: b.created_at.to_rfc3339(),
        completed_at: Utc::now().to_rfc3339(),
        status: status.as_str().into(),
        counts: BTreeMap::new(),
        sizes: contents.sizes,
        parts: vec![],
        blobs: contents.blobs,
        missing_attachments: contents.missing,
    };
    let manifest = writer.finish(manifest).await?;
    Ok(Finished {
        status,
        size: BackupSize {
            data_size: manifest.sizes.data_size,
            users_size: manifest.sizes.users_size,
            attachments_size: manifest.sizes.attachments_size,
            stored_size: manifest.sizes.stored_size,
        },
        counts: manifest.counts,
        missing: contents.missing_count,
        generation,
        reused_from: contents.reused_from,
    })
}

/// What went into a backup's archive besides its parts.
struct Contents {
    sizes: ManifestSizes,
    blobs: BlobTotals,
    missing: Vec<MissingAttachment>,
    missing_count: u64,
    /// The earlier backup whose parts were taken (nothing had changed since).
    reused_from: Option<String>,
}

/// Reads every record in the snapshot into parts, storing the blobs the storage lacks.
#[allow(clippy::too_many_arguments)]
async fn take_in_full(
    backend: &Backend,
    snapshot: &Snapshot,
    b: &Backup,
    scope: &BackupScope,
    storage: &Storage,
    writer: &mut ArchiveWriter,
    ctl: &JobControl,
    (data_limit, attachments_limit): (u64, u64),
) -> Result<Contents, RunError> {
    let db = &backend.db;
    // The estimate (through the pool) and the attachments' bytes (in the snapshot) side by side:
    // each reads a good part of the app's indexes.
    let (total, bytes) = tokio::join!(count_items(db, scope, b.include_users_and_groups), async {
        if b.include_attachments { snapshot.attachment_bytes(scope).await.map(Some) } else { Ok(None) }
    });
    let total = total?;
    if let Some(bytes) = bytes? {
        if bytes > attachments_limit {
            return Err(RunError::failed(
                "SIZE_LIMIT_EXCEEDED",
                format!("the app's attachments ({bytes} bytes) are over this product's backup limit of {attachments_limit} bytes"),
            ));
        }
    }
    let mut tally = Tally { total, ..Tally::default() };
    let mut cp = Checkpoint { db, backup_id: &b.backup_id, ctl, last: Instant::now(), data_limit };
    let kinds = app_kinds(b.product);
    for kind in kinds {
        let started = Instant::now();
        writer.declare(kind);
        if *kind == ATTACHMENTS {
            copy_attachments(backend, snapshot, scope, b.include_attachments, storage, writer, &mut tally, &mut cp).await?;
        } else {
            write_entities(snapshot, scope, kind, writer, &mut tally, &mut cp).await?;
        }
        tracing::debug!(backup_id = %b.backup_id, kind, ms = started.elapsed().as_millis() as u64, "records written");
    }
    if b.include_users_and_groups {
        let started = Instant::now();
        for kind in DIRECTORY_KINDS {
            writer.declare(kind);
            write_entities(snapshot, scope, kind, writer, &mut tally, &mut cp).await?;
        }
        tracing::debug!(backup_id = %b.backup_id, ms = started.elapsed().as_millis() as u64, "directory written");
    }
    // The estimate becomes the count (a quick backup never reached a checkpoint).
    q::set_backup_progress(db, &b.backup_id, &Progress { percent: 99, items_done: tally.done, items_total: tally.done }).await?;
    Ok(Contents {
        sizes: ManifestSizes {
            data_size: tally.data,
            users_size: tally.users,
            attachments_size: tally.attachments,
            stored_size: tally.new_blob_bytes,
        },
        blobs: tally.blobs,
        missing: tally.missing,
        missing_count: tally.missing_count,
        reused_from: None,
    })
}

/// What decides whether an earlier backup can stand in for this one.
struct Unchanged {
    /// The generation in which the app last changed, read in this backup's snapshot.
    changed_in: i64,
    data_limit: u64,
    attachments_limit: u64,
}

/// When nothing this backup records has changed since an earlier complete backup of the same app
/// into the same storage with the same options, takes that backup's parts (copies: a hard link on a
/// filesystem, a server-side copy on S3) and its figures, instead of reading, serializing and
/// compressing every row again; its blobs are marked used now, as a full backup would. Any doubt
/// (no such backup, its manifest unreadable, a blob no longer indexed, a copy failing, a limit
/// lowered since) returns `None` with nothing left behind, and the backup is taken in full.
async fn reuse_unchanged(
    backend: &Backend,
    snap: &mut SqliteConnection,
    b: &Backup,
    scope: &BackupScope,
    storage: &Storage,
    writer: &mut ArchiveWriter,
    unchanged: &Unchanged,
) -> Result<Option<Contents>, RunError> {
    let Some(previous_id) = q::unchanged_backup(&mut *snap, b, unchanged.changed_in).await? else { return Ok(None) };
    let previous = match crate::archive::read_manifest(storage, &previous_id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(backup_id = %b.backup_id, previous_id, error = %e, "unchanged data, but the earlier backup is unreadable: taking a full backup");
            return Ok(None);
        }
    };
    let complete = previous.status == BackupStatus::Complete.as_str() && previous.missing_attachments.is_empty();
    let within_limits = previous.sizes.data_size <= unchanged.data_limit
        && previous.sizes.attachments_size <= unchanged.attachments_limit;
    if !complete || !within_limits {
        return Ok(None);
    }
    if b.include_attachments {
        let sql = distinct_blobs_sql(scope.product);
        let hashes = sqlx::query_scalar::<_, String>(&sql).bind(&scope.cloud_id).bind(scope.personal).fetch(&mut *snap);
        let blobs = touch_listed_blobs(&backend.db, hashes.map_err(crate::store::StoreError::from), storage).await?;
        if blobs.listed.len() as u64 != previous.blobs.count || blobs.distinct != previous.blobs.count {
            return Ok(None);
        }
    }
    if let Err(e) = writer.adopt(&previous).await {
        tracing::warn!(backup_id = %b.backup_id, previous_id, error = %e, "could not copy the earlier backup's parts: taking a full backup");
        if let Err(e) = storage.delete_prefix(&backup_dir(&b.backup_id)).await {
            // The full backup writes the same part names create-only: it fails on a leftover.
            tracing::warn!(backup_id = %b.backup_id, error = %e, "could not delete the copies made so far");
        }
        *writer = ArchiveWriter::new(storage.clone(), &b.backup_id);
        return Ok(None);
    }
    tracing::info!(backup_id = %b.backup_id, previous_id, parts = previous.parts.len(), "nothing changed: parts reused");
    let records = previous.counts.values().sum();
    q::set_backup_progress(&backend.db, &b.backup_id, &Progress { percent: 99, items_done: records, items_total: records }).await?;
    Ok(Some(Contents {
        sizes: ManifestSizes { stored_size: 0, ..previous.sizes },
        blobs: previous.blobs,
        missing: Vec::new(),
        missing_count: 0,
        reused_from: Some(previous_id),
    }))
}

/// The records a backup will write, for its progress: an estimate, read through the pool as the
/// snapshot opens (not inside it).
async fn count_items(db: &Db, scope: &BackupScope, directory: bool) -> Result<u64, RunError> {
    let mut n: i64 = pq::app_counts(db, &scope.cloud_id, scope.product).await?.values().map(|v| *v as i64).sum();
    if directory {
        let d: i64 = sqlx::query_scalar(&format!(
            "SELECT (SELECT COUNT(*) FROM group_members WHERE group_id IN ({GROUP_SCOPE})) * 2
                  + (SELECT COUNT(*) FROM app_access WHERE cloud_id = ?1 AND product = ?3) * 2"
        ))
        .bind(&scope.cloud_id)
        .bind(scope.personal)
        .bind(scope.product.as_str())
        .fetch_one(db)
        .await
        .map_err(crate::store::StoreError::from)?;
        n += d;
    }
    Ok(n.max(0) as u64)
}

/// Marks every blob of the app that the storage's index lists as used now, a chunk of the app's
/// distinct blobs per statement (as they stream from the snapshot), and returns them with the
/// count of the app's distinct blobs.
async fn touch_listed_blobs<'a>(
    db: &'a Db,
    hashes: impl futures_util::Stream<Item = Result<String, crate::store::StoreError>>,
    storage: &'a Storage,
) -> Result<ListedBlobs<'a>, RunError> {
    let mut hashes = std::pin::pin!(hashes);
    let mut blobs = ListedBlobs::new(db, storage.key());
    while let Some(hash) = hashes.try_next().await? {
        blobs.add(hash).await?;
    }
    Ok(blobs.finish().await?)
}

/// Writes every record of an entity kind, encoded on the snapshot's thread, into the archive.
async fn write_entities(
    snapshot: &Snapshot,
    scope: &BackupScope,
    kind: &'static str,
    writer: &mut ArchiveWriter,
    tally: &mut Tally,
    cp: &mut Checkpoint<'_>,
) -> Result<(), RunError> {
    let mut batches = snapshot.encoded_records(kind, scope);
    let directory = is_directory_kind(kind);
    while let Some(batch) = batches.next().await? {
        writer.write_encoded(kind, &batch.lines, batch.records).await?;
        let size = batch.lines.len() as u64;
        if directory {
            tally.users += size;
        } else {
            tally.data += size;
        }
        tally.done += batch.records;
        cp.tick(tally).await?;
    }
    Ok(())
}

/// Attachment records, and (with `include_bytes`) each blob copied into the storage unless the
/// storage's blob index already has it. Unreadable bytes make the backup INCOMPLETE, not FAILED.
#[allow(clippy::too_many_arguments)]
async fn copy_attachments(
    backend: &Backend,
    snapshot: &Snapshot,
    scope: &BackupScope,
    include_bytes: bool,
    storage: &Storage,
    writer: &mut ArchiveWriter,
    tally: &mut Tally,
    cp: &mut Checkpoint<'_>,
) -> Result<(), RunError> {
    let db = &backend.db;
    // The blobs the storage's index already lists are marked used now, ten thousand per statement,
    // and only the others are copied. (One write per blob made the two apps' backups take turns at
    // SQLite's single writer for every blob.) Two backups into one storage at once may both start
    // copying a blob neither found listed; in a directory storage, one the other has stored by then
    // is found by `store_blob`'s stat, see there.
    let listed = if include_bytes {
        let hashes = snapshot.distinct_blobs(scope).into_rows();
        touch_listed_blobs(db, hashes, storage).await?.listed
    } else {
        Default::default()
    };
    // A few blobs are copied at once (each mostly waits on file reads and writes; one copy at a time
    // left a core idle); records still go into the part in the query's order. A blob that several
    // attachments share is copied once: the later records take the first copy's outcome, which is
    // known by the time they come out (in order).
    let copy = |rec: AttachmentRecord, bytes: BlobCopy| async move {
        match bytes {
            BlobCopy::Start => (BlobCopy::Copied(store_blob(backend, storage, &rec.sha256, rec.size).await), rec),
            other => (other, rec),
        }
    };
    let mut new_blobs = NewBlobs::new(db, storage.key());
    let mut records = snapshot.attachments(scope).into_rows();
    let mut in_flight = futures_util::stream::FuturesOrdered::new();
    let mut started = std::collections::HashSet::<[u8; 32]>::new();
    // Outcome of each distinct blob copied so far: None when stored, the reason when unreadable.
    let mut outcomes = std::collections::HashMap::<[u8; 32], Option<String>>::new();
    let mut rows_left = true;
    let written: Result<(), RunError> = async {
        loop {
            while rows_left && in_flight.len() < BLOBS_IN_FLIGHT {
                let Some(rec) = records.try_next().await? else {
                    rows_left = false;
                    break;
                };
                let bytes = match (include_bytes, blob_key(&rec.sha256)) {
                    (false, _) => BlobCopy::NotIncluded,
                    (true, Some(key)) if !started.insert(key) => BlobCopy::SameAsEarlier,
                    (true, Some(key)) if listed.contains(&key) => BlobCopy::Indexed,
                    (true, _) => BlobCopy::Start,
                };
                in_flight.push_back(copy(rec, bytes));
            }
            let Some((bytes, mut rec)) = in_flight.next().await else { break };
            let key = blob_key(&rec.sha256);
            let stored = match bytes {
                BlobCopy::NotIncluded | BlobCopy::Start => None,
                BlobCopy::Copied(result) => {
                    if result.is_ok() {
                        new_blobs.add(rec.sha256.clone(), rec.size).await?;
                    }
                    Some(result)
                }
                BlobCopy::Indexed => Some(Ok(0)),
                BlobCopy::SameAsEarlier => match key.and_then(|k| outcomes.get(&k)) {
                    Some(None) => Some(Ok(0)),
                    Some(Some(reason)) => Some(Err(BlobFailure::Unreadable(reason.clone()))),
                    None => Some(Err(BlobFailure::Storage(StorageError::Backend(format!("blob {} has no earlier copy", rec.sha256))))),
                },
            };
            if let Some(stored) = stored {
                tally.attachments += rec.size;
                match stored {
                    Ok(new_bytes) => {
                        rec.bytes_included = true;
                        tally.new_blob_bytes += new_bytes;
                        if let Some(key) = key {
                            if outcomes.insert(key, None).is_none() {
                                tally.blobs.count += 1;
                                tally.blobs.bytes += rec.size;
                            }
                        }
                    }
                    Err(BlobFailure::Unreadable(reason)) => {
                        if let Some(key) = key {
                            outcomes.insert(key, Some(reason.clone()));
                        }
                        tally.missing_count += 1;
                        if tally.missing.len() < 1000 {
                            tally.missing.push(MissingAttachment { attachment_id: rec.id.clone(), sha256: rec.sha256.clone(), reason: reason.clone() });
                        }
                        rec.missing_reason = Some(reason);
                    }
                    Err(BlobFailure::Storage(e)) => return Err(e.into()),
                }
            }
            tally.data += writer.write(ATTACHMENTS, &rec).await?;
            tally.done += 1;
            cp.tick(tally).await?;
        }
        Ok(())
    }
    .await;
    // On a failure or a cancel, the copies already started finish first: one dropped mid-upload
    // would leave an unfinished multipart upload on S3, or a blob its storage's index does not list.
    // Their blobs are indexed too.
    while let Some((bytes, rec)) = in_flight.next().await {
        if let BlobCopy::Copied(Ok(_)) = bytes {
            new_blobs.add_later(rec.sha256, rec.size);
        }
    }
    new_blobs.finish(written).await
}

/// What becomes of an attachment's bytes in a backup.
enum BlobCopy {
    /// The backup leaves attachments' bytes out.
    NotIncluded,
    /// To copy (the first record with this blob).
    Start,
    /// Copied (its index entry still to add): the bytes newly written, or why not.
    Copied(Result<u64, BlobFailure>),
    /// In the storage already (its index lists it): nothing to write.
    Indexed,
    /// An earlier record has the same blob: its outcome stands for this one.
    SameAsEarlier,
}

/// Blobs one backup copies at once. A copy holds the blob in memory up to 8 MiB; a larger blob is
/// uploaded in 8 MiB chunks, up to three of them in memory.
const BLOBS_IN_FLIGHT: usize = 4;

enum BlobFailure {
    /// The source bytes are missing or damaged: the attachment is recorded without them.
    Unreadable(String),
    /// The destination failed: the backup fails.
    Storage(StorageError),
}

/// Copies a blob the storage's index does not list into the storage; returns the bytes newly
/// written (0 when the storage had it after all). The caller adds it to the index.
async fn store_blob(backend: &Backend, storage: &Storage, sha256: &str, size: u64) -> Result<u64, BlobFailure> {
    if !crate::blobs::is_sha256_hex(sha256) {
        return Err(BlobFailure::Unreadable("the attachment has no valid SHA-256".into()));
    }
    let unreadable = |e: crate::blobs::BlobError| BlobFailure::Unreadable(format!("the attachment's bytes cannot be read: {e}"));
    let path = blob_path(sha256);
    // Already in a directory storage, though its index did not list it: another backup copying
    // the same blob at the same time (two apps, or two sites, sharing attachments) wrote it and
    // has not indexed it yet, or a backup stopped before indexing it. A `stat` finds it; the
    // create-only write below would find it too, but only after reading, hashing and writing the
    // whole blob again. (On S3 that check would be a request per blob to copy, mostly absent.)
    // One there with another size is damaged: the write below would take it as stored, as it
    // always did (`lifeboat verify` names it), so it is at least logged.
    if storage.is_local() {
        match storage.size_of(&path).await {
            Ok(Some(stored)) if stored == size => return Ok(0),
            Ok(Some(stored)) => tracing::warn!(path, stored, expected = size, "a stored blob has the wrong size: it is damaged"),
            Ok(None) => {}
            Err(e) => return Err(BlobFailure::Storage(e)),
        }
    }
    let stored = if size <= crate::storage::SINGLE_PUT_MAX {
        // Read and hashed in one blocking task (streaming hands every 256 KiB chunk to a thread).
        let (bytes, digest) = backend.blobs.read_hashed(sha256, size).await.map_err(unreadable)?;
        match crate::storage::check_content(&path, bytes.len() as u64, &digest, size, sha256) {
            Ok(()) => storage.put_create(&path, bytes).await,
            Err(e) => Err(e),
        }
    } else {
        let file = backend.blobs.open(sha256).await.map_err(unreadable)?;
        storage.put_verified(&path, tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024), size, sha256).await
    };
    let written = match stored {
        Ok(created) => created,
        Err(StorageError::Mismatch { reason, .. }) => {
            return Err(BlobFailure::Unreadable(format!("the attachment's stored bytes are damaged ({reason})")))
        }
        // A read error mid-way through a blob streamed in, as for one read whole above.
        Err(StorageError::Source(reason)) => return Err(BlobFailure::Unreadable(format!("the attachment's bytes cannot be read: {reason}"))),
        Err(e) => return Err(BlobFailure::Storage(e)),
    };
    Ok(if written { size } else { 0 })
}

/// One page of the organization's backups of the apps the caller administers, newest first (the
/// dashboard's Backups table); `restorable_only` for the size chart and the restore wizard.
pub async fn backups_page(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    restorable_only: bool,
    page: crate::model::PageRequest,
) -> Result<crate::model::Paged<Backup>, ServiceError> {
    use crate::rules::paging;
    require_org_admin(&backend.db, admin_id, org_id).await?;
    let (limit, offset) = (paging::clamp_limit(page.limit), paging::clamp_offset(page.offset));
    let (items, total) = q::page_backups_for_admin(&backend.db, org_id, admin_id, restorable_only, limit, offset).await?;
    let next_offset = paging::next_offset(offset, items.len(), total);
    Ok(crate::model::Paged { items, total, offset, limit, next_offset })
}

/// Used by the scheduler: creation time of a due run, to log lateness.
pub(crate) fn lateness(due: Option<DateTime<Utc>>) -> i64 {
    due.map(|d| (Utc::now() - d).num_seconds()).unwrap_or(0)
}
