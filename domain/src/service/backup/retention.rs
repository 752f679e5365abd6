//! Retention: expired backups lose their archive (their metadata stays, EXPIRED), and blobs no live
//! backup refers to any more are collected.
//!
//! Blob GC marks by time: every backup, export or import sets `last_used_at` on each blob it refers
//! to, so a blob last used before the oldest live reference of its storage (and before the grace
//! period) is garbage. Deleting takes the storage's lock exclusively, so a job writing to the same
//! storage in this process never loses a blob it has just checked.

use chrono::Utc;

use super::storage_by_id;
use crate::archive::{backup_dir, blob_path};
use crate::service::{Backend, ServiceError};
use crate::store::backup as q;

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: u64,
    pub blobs_deleted: u64,
}

pub async fn sweep(backend: &Backend) -> Result<SweepReport, ServiceError> {
    let db = &backend.db;
    let mut report = SweepReport::default();
    let now = Utc::now();
    for row in q::expired_backups(db, now).await? {
        let id = &row.backup.backup_id;
        match storage_by_id(backend, &row.org_id, row.backup.storage_id.as_deref()).await {
            Ok(storage) => {
                if let Err(e) = storage.delete_prefix(&backup_dir(id)).await {
                    tracing::warn!(backup_id = %id, error = %e, "could not delete an expired backup's archive; will retry");
                    continue;
                }
            }
            Err(e) => tracing::warn!(backup_id = %id, error = %e, "expired backup's storage is gone"),
        }
        q::mark_expired(db, id, now).await?;
        report.expired += 1;
        tracing::info!(backup_id = %id, "backup expired");
    }
    for key in q::storage_keys_with_blobs(db).await? {
        report.blobs_deleted += collect_garbage(backend, &key).await?;
    }
    Ok(report)
}

async fn collect_garbage(backend: &Backend, storage_key: &str) -> Result<u64, ServiceError> {
    let db = &backend.db;
    let lock = backend.backup.storage_lock(storage_key);
    let Ok(_exclusive) = lock.try_write() else { return Ok(0) };
    let grace = chrono::Duration::from_std(backend.backup.settings.gc_grace).unwrap_or_default();
    let mut before = Utc::now() - grace;
    if let Some(oldest) = q::oldest_live_reference(db, storage_key).await? {
        before = before.min(oldest);
    }
    let org_storage = if storage_key.is_empty() { None } else { Some(storage_key) };
    let storage = match org_storage {
        None => backend.backup.managed.clone(),
        Some(id) => {
            let org: Option<String> = sqlx::query_scalar("SELECT org_id FROM storages WHERE storage_id = ?")
                .bind(id)
                .fetch_optional(db)
                .await
                .map_err(crate::store::StoreError::from)?;
            let Some(org) = org else { return Ok(0) };
            match storage_by_id(backend, &org, Some(id)).await {
                Ok(s) => s,
                Err(_) => return Ok(0),
            }
        }
    };
    let mut deleted = 0;
    loop {
        let batch = q::take_garbage_blobs(db, storage_key, before, 500).await?;
        if batch.is_empty() {
            break;
        }
        for sha in &batch {
            if let Err(e) = storage.delete(&blob_path(sha)).await {
                tracing::warn!(sha256 = %sha, error = %e, "could not delete an unreferenced blob");
            } else {
                deleted += 1;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(storage = storage.description(), deleted, "unreferenced blobs deleted");
    }
    Ok(deleted)
}
