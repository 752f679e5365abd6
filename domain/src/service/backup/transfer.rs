//! Exports (managed → the external storage of the backup's policy) and imports (an exported backup
//! → managed storage, as a new restorable backup). Both copy the parts and the blobs the
//! destination lacks, write the manifest last, then verify the copy in full.

use crate::service::audit::AuditEvent;
use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use chrono::Utc;

use super::blob_index::{blob_key, ListedBlobs, NewBlobs};
use super::run::{JobControl, RunError};
use super::storage_by_id;
use crate::archive::reader::{fetch_part, verify_blob};
use crate::archive::records::{AttachmentRecord, ATTACHMENTS};
use crate::archive::{
    backup_dir, blob_path, is_backup_id, manifest_path, part_path, read_manifest, verify_backup, ArchiveError,
    Manifest, PartReader,
};
use crate::model::{
    Backup, BackupOrigin, BackupSize, BackupStatus, Export, ExportFilter, Import, Product, Progress, TransferRequest,
    TransferStatus,
};
use crate::service::identity::require_org_admin;
use crate::service::platform::{admin_email, begin, commit, org_app};
use crate::service::{Backend, ServiceError};
use crate::storage::{Storage, StorageError};
use crate::store::backup::{self as q, BackupResult, TransferTable};
use crate::store::jobs::{self as jq, JobKind};
use crate::store::new_id;

/// Most backups one export or import request may name.
pub const MAX_ITEMS: usize = 50;

fn check_items(items: &[TransferRequest]) -> Result<(), ServiceError> {
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ServiceError::validation("INVALID_BODY", format!("send between 1 and {MAX_ITEMS} backups")));
    }
    Ok(())
}

fn no_external_storage() -> ServiceError {
    ServiceError::validation(
        "NO_EXTERNAL_STORAGE",
        "no external storage is connected to this app's backup policy; connect one with PUT /policies/{policyId}",
    )
}

/// `POST /orgs/{orgId}/exports` (202): every item is checked before any export starts.
pub async fn create_exports(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    items: Vec<TransferRequest>,
) -> Result<Vec<Export>, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "export.create").target(items.iter().map(|i| i.backup_id.as_str()).collect::<Vec<_>>().join(","));
    let result = create_exports_unaudited(backend, admin_id, org_id, items).await;
    event.record(&backend.db, result, |x| Some(x.iter().map(|e| e.export_id.as_str()).collect::<Vec<_>>().join(","))).await
}

async fn create_exports_unaudited(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    items: Vec<TransferRequest>,
) -> Result<Vec<Export>, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    check_items(&items)?;
    let email = admin_email(db, admin_id).await?;
    let mut exports = Vec::new();
    for item in &items {
        org_app(db, admin_id, org_id, &item.cloud_id, item.product).await?;
        let row = q::find_backup(db, &item.backup_id)
            .await?
            .filter(|b| b.org_id == org_id && b.backup.cloud_id == item.cloud_id && b.backup.product == item.product)
            .ok_or_else(|| ServiceError::not_found("BACKUP_NOT_FOUND", format!("no backup {} of this app", item.backup_id)))?;
        let b = &row.backup;
        if !b.status.is_restorable() {
            return Err(ServiceError::conflict("BACKUP_NOT_EXPORTABLE", format!("backup {} is {}; only COMPLETE or INCOMPLETE backups can be exported", b.backup_id, b.status)));
        }
        if b.storage_id.is_some() {
            return Err(ServiceError::validation("BACKUP_NOT_IN_MANAGED_STORAGE", "this backup is already in an external storage"));
        }
        let own = match &b.policy_id {
            Some(p) => q::find_policy(db, org_id, p).await?.and_then(|p| p.policy.storage_id),
            None => None,
        };
        let storage_id = match own {
            Some(s) => s,
            None => q::external_policy(db, &b.cloud_id, b.product)
                .await?
                .and_then(|p| p.policy.storage_id)
                .ok_or_else(no_external_storage)?,
        };
        exports.push(Export {
            export_id: new_id(),
            cloud_id: b.cloud_id.clone(),
            product: b.product,
            backup_id: b.backup_id.clone(),
            storage_id,
            status: TransferStatus::InProgress,
            status_message: None,
            copied_bytes: 0,
            progress: Progress::default(),
            created_at: q::now_ms(),
            created_by: email.clone(),
            completed_at: None,
        });
    }
    let mut tx = begin(db).await?;
    for e in &exports {
        q::insert_export(&mut *tx, org_id, e).await?;
        jq::enqueue(&mut *tx, JobKind::Export, &e.export_id).await?;
    }
    commit(tx).await?;
    backend.backup.wake_job_runner();
    Ok(exports)
}

/// `POST /orgs/{orgId}/imports` (202): reads each exported backup's manifest from the app's external
/// storage first, so a missing or damaged one is refused at once.
pub async fn create_imports(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    items: Vec<TransferRequest>,
) -> Result<Vec<Import>, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "import.create").target(items.iter().map(|i| i.backup_id.as_str()).collect::<Vec<_>>().join(","));
    let result = create_imports_unaudited(backend, admin_id, org_id, items).await;
    event.record(&backend.db, result, |x| Some(x.iter().map(|e| e.import_id.as_str()).collect::<Vec<_>>().join(","))).await
}

async fn create_imports_unaudited(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    items: Vec<TransferRequest>,
) -> Result<Vec<Import>, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    check_items(&items)?;
    let email = admin_email(db, admin_id).await?;
    let settings = &backend.backup.settings;
    let mut planned: Vec<(Import, Backup)> = Vec::new();
    for item in &items {
        org_app(db, admin_id, org_id, &item.cloud_id, item.product).await?;
        if !is_backup_id(&item.backup_id) {
            return Err(ServiceError::validation("INVALID_BACKUP_ID", "backupId is not a backup id"));
        }
        let policy = q::external_policy(db, &item.cloud_id, item.product).await?.ok_or_else(no_external_storage)?;
        let storage_id = policy.policy.storage_id.clone().ok_or_else(no_external_storage)?;
        let storage = storage_by_id(backend, org_id, Some(&storage_id)).await?;
        let manifest = read_manifest(&storage, &item.backup_id).await.map_err(|e| match e {
            ArchiveError::ManifestMissing(_) => ServiceError::not_found(
                "BACKUP_NOT_FOUND",
                format!("the external storage holds no exported backup {}", item.backup_id),
            ),
            other => ServiceError::unprocessable(other.code(), format!("the exported backup cannot be imported: {other}")),
        })?;
        if manifest.org_id != org_id || manifest.cloud_id != item.cloud_id || manifest.product != item.product.as_str() {
            return Err(ServiceError::validation("BACKUP_OTHER_APP", "the exported backup belongs to another app"));
        }
        let now = q::now_ms();
        let backup = Backup {
            backup_id: new_id(),
            policy_id: None,
            cloud_id: item.cloud_id.clone(),
            product: item.product,
            status: BackupStatus::InProgress,
            status_code: None,
            status_message: Some("Importing".into()),
            origin: BackupOrigin::Import,
            imported_from: Some(item.backup_id.clone()),
            created_at: now,
            created_by: email.clone(),
            completed_at: None,
            expiry_time: now + chrono::Duration::from_std(settings.managed_retention).unwrap_or(chrono::Duration::days(14)),
            storage_id: None,
            include_attachments: manifest.options.include_attachments,
            include_users_and_groups: manifest.options.include_users_and_groups,
            include_personal_spaces: manifest.options.include_personal_spaces,
            backup_size: BackupSize::default(),
            counts: BTreeMap::new(),
            missing_attachments: 0,
            progress: Progress::default(),
        };
        let import = Import {
            import_id: new_id(),
            cloud_id: item.cloud_id.clone(),
            product: item.product,
            backup_id: item.backup_id.clone(),
            storage_id,
            imported_backup_id: Some(backup.backup_id.clone()),
            status: TransferStatus::InProgress,
            status_message: None,
            copied_bytes: 0,
            progress: Progress::default(),
            created_at: now,
            created_by: email.clone(),
            completed_at: None,
        };
        planned.push((import, backup));
    }
    let mut tx = begin(db).await?;
    for (import, backup) in &planned {
        q::insert_backup(&mut *tx, org_id, backup, 1).await?;
        q::insert_import(&mut *tx, org_id, import).await?;
        jq::enqueue(&mut *tx, JobKind::Import, &import.import_id).await?;
    }
    commit(tx).await?;
    backend.backup.wake_job_runner();
    Ok(planned.into_iter().map(|(i, _)| i).collect())
}

pub async fn list_exports(backend: &Backend, admin_id: &str, org_id: &str, filter: ExportFilter) -> Result<Vec<Export>, ServiceError> {
    require_org_admin(&backend.db, admin_id, org_id).await?;
    // Other apps' exports are filtered out in SQL, so they never crowd the newest 500 out.
    Ok(q::list_exports(&backend.db, org_id, admin_id, filter.product_type).await?)
}

pub async fn list_imports(backend: &Backend, admin_id: &str, org_id: &str) -> Result<Vec<Import>, ServiceError> {
    require_org_admin(&backend.db, admin_id, org_id).await?;
    Ok(q::list_imports(&backend.db, org_id, admin_id).await?)
}

pub async fn get_export(backend: &Backend, admin_id: &str, org_id: &str, cloud_id: &str, export_id: &str) -> Result<Export, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let e = q::find_export(db, org_id, export_id)
        .await?
        .filter(|e| e.cloud_id == cloud_id)
        .ok_or_else(|| ServiceError::not_found("EXPORT_NOT_FOUND", "no such export on this site"))?;
    org_app(db, admin_id, org_id, cloud_id, e.product).await?;
    Ok(e)
}

pub async fn get_import(backend: &Backend, admin_id: &str, org_id: &str, cloud_id: &str, import_id: &str) -> Result<Import, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let i = q::find_import(db, org_id, import_id)
        .await?
        .filter(|i| i.cloud_id == cloud_id)
        .ok_or_else(|| ServiceError::not_found("IMPORT_NOT_FOUND", "no such import on this site"))?;
    org_app(db, admin_id, org_id, cloud_id, i.product).await?;
    Ok(i)
}

// ---- the jobs ----

/// Writes `bytes` create-only; when the object is already there it must hold the same bytes.
async fn put_same(dst: &Storage, path: &str, bytes: Bytes) -> Result<u64, RunError> {
    let len = bytes.len() as u64;
    if dst.put_create(path, bytes.clone()).await? {
        return Ok(len);
    }
    let existing = dst.get_bounded(path, len).await?;
    if existing != bytes {
        return Err(RunError::Failed { code: "DESTINATION_CONFLICT", message: format!("{path} already exists in the destination with other content") });
    }
    Ok(0)
}

/// Where a copied archive comes from, and so what its blobs must prove.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// An export: the organization's own backup in managed storage, whose blobs were checked when
    /// they went in.
    Managed,
    /// An import, into `app` (cloud id, product), from storage the organization writes to. A blob
    /// the destination has already is not copied, but unless the app holds it (one of its
    /// attachments carries it, at that size) its bytes are read from the source and hashed all the
    /// same: managed storage is shared by every app of every organization, and an archive naming
    /// another app's SHA-256 must not get its bytes. `org` is the importing organization.
    Untrusted { org: &'a str, app: (&'a str, Product) },
}

/// A source's blob whose size or bytes are not those its archive names.
fn not_the_one_named(sha: &str) -> RunError {
    RunError::Failed { code: "BLOB_CORRUPT", message: format!("attachment blob {sha} in the source is not the one its archive names") }
}

/// Copies one backup's archive between storages; a `dst_id` other than `src_id` gives the copy a
/// new id (imports). Returns the manifest written and the bytes the destination gained.
#[allow(clippy::too_many_arguments)]
async fn copy_archive(
    backend: &Backend,
    source: Source<'_>,
    src: &Storage,
    src_id: &str,
    dst: &Storage,
    dst_id: &str,
    ctl: &JobControl,
    mut progress: impl FnMut(u64, u64, u64) -> futures_util::future::BoxFuture<'static, ()>,
) -> Result<(Manifest, u64), RunError> {
    let db = &backend.db;
    let mut manifest = read_manifest(src, src_id).await?;
    if let Source::Untrusted { org, app: (cloud_id, product) } = &source {
        // Checked when the import was requested, and again here: the archive may have been
        // replaced since, and a restore refuses an archive that names another app (`restore::load`).
        if manifest.cloud_id != *cloud_id || manifest.product != product.as_str() || manifest.org_id != *org {
            return Err(RunError::Failed { code: "BACKUP_OTHER_APP", message: "the exported backup belongs to another app".into() });
        }
    }
    let total = manifest.parts.len() as u64 + manifest.blobs.count + 1;
    let mut done = 0u64;
    let mut copied = 0u64;
    let mut blobs: Vec<(String, u64)> = Vec::new();
    let mut seen = HashSet::new();
    for entry in &manifest.parts {
        ctl.check()?;
        let bytes = fetch_part(src, src_id, entry).await?;
        if entry.kind == ATTACHMENTS {
            let mut reader = PartReader::new(entry, bytes.clone())?;
            while let Some(a) = reader.next::<AttachmentRecord>()? {
                if a.bytes_included && !crate::blobs::is_sha256_hex(&a.sha256) {
                    return Err(ArchiveError::PartContent { part: entry.name.clone(), reason: format!("attachment {} has no valid SHA-256", a.id) }.into());
                }
                if a.bytes_included && seen.insert(a.sha256.clone()) {
                    blobs.push((a.sha256, a.size));
                }
            }
        }
        copied += put_same(dst, &part_path(dst_id, &entry.name), bytes).await?;
        done += 1;
        progress(done, total, copied).await;
    }
    // The blobs the destination's index lists are marked used now and not copied; the others are
    // copied and added to its index in batches (see blob_index).
    let mut touched = ListedBlobs::new(db, dst.key());
    for (sha, _) in &blobs {
        touched.add(sha.clone()).await?;
    }
    let listed = touched.finish().await?.listed;
    let held = match source {
        Source::Managed => None,
        Source::Untrusted { app, .. } => {
            let named: Vec<&str> = blobs.iter().map(|(sha, _)| sha.as_str()).collect();
            Some(crate::store::content::blobs_held_by_apps(db, &[app], &named).await?)
        }
    };
    let mut new_blobs = NewBlobs::new(db, dst.key());
    let copying: Result<(), RunError> = async {
        for (sha, size) in blobs {
            ctl.check()?;
            let is_listed = blob_key(&sha).is_some_and(|k| listed.contains(&k));
            // Either way a wrong blob fails alike (`not_the_one_named`), so that the answer does
            // not tell whether managed storage has it.
            if is_listed && held.as_ref().is_some_and(|held| !held.contains(&(sha.clone(), size))) {
                verify_blob(src, &sha, size).await.map_err(|e| match e {
                    ArchiveError::BlobMissing(_) => RunError::Failed { code: "BLOB_MISSING", message: format!("attachment blob {sha} is missing from the source") },
                    ArchiveError::BlobCorrupt { .. } => not_the_one_named(&sha),
                    other => other.into(),
                })?;
                // Counted as if copied: the figure must not tell which blobs managed storage had
                // for other apps (the caller has the bytes, not a right to know who else has them).
                copied += size;
            }
            if !is_listed {
                let (_, stream) = src.get_stream(&blob_path(&sha)).await.map_err(|e| match e {
                    StorageError::NotFound(_) => RunError::Failed { code: "BLOB_MISSING", message: format!("attachment blob {sha} is missing from the source") },
                    other => other.into(),
                })?;
                let created = dst.put_verified(&blob_path(&sha), Box::pin(stream), size, &sha).await.map_err(|e| match e {
                    StorageError::Mismatch { .. } => not_the_one_named(&sha),
                    other => other.into(),
                })?;
                // From an untrusted archive, counted whether or not the file was there already
                // (unindexed: a backup not done indexing it, a collection that could not delete
                // it), for the reason above.
                if created || held.is_some() {
                    copied += size;
                }
                new_blobs.add(sha, size).await?;
            }
            done += 1;
            progress(done, total, copied).await;
        }
        Ok(())
    }
    .await;
    new_blobs.finish(copying).await?;
    if src_id != dst_id {
        manifest.imported_from = Some(src_id.to_owned());
        manifest.backup_id = dst_id.to_owned();
    }
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| RunError::Failed { code: "INTERNAL_ERROR", message: e.to_string() })?;
    copied += put_same(dst, &manifest_path(dst_id), Bytes::from(bytes)).await?;
    ctl.check()?;
    // Verify after copy: every part and blob read back from the destination.
    verify_backup(dst, dst_id, |_, _| {}).await?;
    Ok((manifest, copied))
}

fn progress_writer(backend: &Backend, table: TransferTable, id: &str) -> impl FnMut(u64, u64, u64) -> futures_util::future::BoxFuture<'static, ()> {
    let db = backend.db.clone();
    let id = id.to_owned();
    let mut last = std::time::Instant::now();
    move |done, total, copied| {
        let db = db.clone();
        let id = id.clone();
        let due = last.elapsed() >= std::time::Duration::from_millis(500);
        if due {
            last = std::time::Instant::now();
        }
        Box::pin(async move {
            if due {
                let percent = (done * 100 / total.max(1)).min(99) as u8;
                let _ = q::set_transfer(&db, table, &id, TransferStatus::InProgress, None, copied, percent).await;
            }
        })
    }
}

fn run_message(e: &RunError) -> String {
    match e {
        RunError::Cancelled(who) => format!("Cancelled by {who}"),
        RunError::Failed { message, .. } => message.clone(),
    }
}

pub async fn execute_export(backend: &Backend, export_id: &str, ctl: &JobControl) -> Result<(), ServiceError> {
    let db = &backend.db;
    let Some((org_id, export)) = q::export_by_id(db, export_id).await? else { return Ok(()) };
    let outcome: Result<u64, RunError> = async {
        let src = backend.backup.managed.clone();
        let dst = storage_by_id(backend, &org_id, Some(&export.storage_id)).await.map_err(|e| RunError::Failed { code: "STORAGE_UNREACHABLE", message: e.public_message() })?;
        let lock = backend.backup.storage_lock(dst.key());
        let _shared = lock.read().await;
        let (_, copied) = copy_archive(backend, Source::Managed, &src, &export.backup_id, &dst, &export.backup_id, ctl, progress_writer(backend, TransferTable::Exports, export_id)).await?;
        Ok(copied)
    }
    .await;
    match outcome {
        Ok(copied) => q::set_transfer(db, TransferTable::Exports, export_id, TransferStatus::Complete, None, copied, 100).await?,
        Err(e) => {
            tracing::warn!(export_id, error = ?e, "export failed");
            q::set_transfer(db, TransferTable::Exports, export_id, TransferStatus::Failed, Some(&run_message(&e)), 0, 0).await?
        }
    }
    Ok(())
}

pub async fn execute_import(backend: &Backend, import_id: &str, ctl: &JobControl) -> Result<(), ServiceError> {
    let db = &backend.db;
    let Some((org_id, import)) = q::import_by_id(db, import_id).await? else { return Ok(()) };
    let Some(new_id) = import.imported_backup_id.clone() else { return Ok(()) };
    let dst = backend.backup.managed.clone();
    let outcome: Result<(Manifest, u64), RunError> = async {
        let src = storage_by_id(backend, &org_id, Some(&import.storage_id)).await.map_err(|e| RunError::Failed { code: "STORAGE_UNREACHABLE", message: e.public_message() })?;
        let lock = backend.backup.storage_lock(dst.key());
        let _shared = lock.read().await;
        copy_archive(backend, Source::Untrusted { org: &org_id, app: (&import.cloud_id, import.product) }, &src, &import.backup_id, &dst, &new_id, ctl, progress_writer(backend, TransferTable::Imports, import_id)).await
    }
    .await;
    let now = Utc::now();
    match outcome {
        Ok((manifest, copied)) => {
            let status = if manifest.status == "INCOMPLETE" { BackupStatus::Incomplete } else { BackupStatus::Complete };
            let missing = manifest.missing_attachments.len() as u64;
            let result = BackupResult {
                status,
                code: None,
                message: Some(format!("Imported from backup {}", import.backup_id)),
                size: BackupSize {
                    data_size: manifest.sizes.data_size,
                    users_size: manifest.sizes.users_size,
                    attachments_size: manifest.sizes.attachments_size,
                    stored_size: copied,
                },
                counts: &manifest.counts,
                missing_attachments: missing,
                completed_at: now,
                change_generation: None,
            };
            q::finish_backup(db, &new_id, &result).await?;
            q::set_transfer(db, TransferTable::Imports, import_id, TransferStatus::Complete, None, copied, 100).await?;
        }
        Err(e) => {
            tracing::warn!(import_id, error = ?e, "import failed");
            let message = run_message(&e);
            let empty = BTreeMap::new();
            let result = BackupResult {
                status: BackupStatus::Failed,
                code: Some("IMPORT_FAILED"),
                message: Some(message.clone()),
                size: BackupSize::default(),
                counts: &empty,
                missing_attachments: 0,
                completed_at: now,
                change_generation: None,
            };
            q::finish_backup(db, &new_id, &result).await?;
            q::set_transfer(db, TransferTable::Imports, import_id, TransferStatus::Failed, Some(&message), 0, 0).await?;
            let _ = dst.delete_prefix(&backup_dir(&new_id)).await;
        }
    }
    Ok(())
}

/// Ends an export or import whose job died with its process.
pub(crate) async fn fail_interrupted(backend: &Backend, kind: JobKind, id: &str) -> Result<(), ServiceError> {
    let message = "Interrupted: the server stopped while it ran";
    match kind {
        JobKind::Export => q::set_transfer(&backend.db, TransferTable::Exports, id, TransferStatus::Failed, Some(message), 0, 0).await?,
        JobKind::Import => {
            if let Some((_, import)) = q::import_by_id(&backend.db, id).await? {
                if let Some(b) = &import.imported_backup_id {
                    let empty = BTreeMap::new();
                    let result = BackupResult {
                        status: BackupStatus::Failed,
                        code: Some("INTERRUPTED"),
                        message: Some(message.into()),
                        size: BackupSize::default(),
                        counts: &empty,
                        missing_attachments: 0,
                        completed_at: Utc::now(),
                        change_generation: None,
                    };
                    q::finish_backup(&backend.db, b, &result).await?;
                    let _ = backend.backup.managed.delete_prefix(&backup_dir(b)).await;
                }
            }
            q::set_transfer(&backend.db, TransferTable::Imports, id, TransferStatus::Failed, Some(message), 0, 0).await?
        }
        JobKind::Backup | JobKind::Restore => {}
    }
    Ok(())
}
