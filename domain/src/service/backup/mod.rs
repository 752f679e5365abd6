//! The backup engine's use cases: storages, policies (here), backups (`run`), exports and imports
//! (`transfer`), expiry and garbage collection (`retention`).

mod blob_index;
pub mod retention;
pub mod run;
pub mod settings;
pub mod transfer;

use crate::service::audit::AuditEvent;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

pub use settings::{BackupSettings, JobSettings, ManagedStorage, SizeLimits};

use super::identity::{only_administered, require_app_admin, require_org_admin};
use super::platform::{admin_email, begin, commit, org_app};
use super::ServiceError;
use crate::model::{
    NewPolicy, NewStorage, Policy, PolicyStatus, PolicyUpdate, Product, Regions, Storage as StorageInfo, StorageFilter,
    StorageType,
};
use crate::rules::schedule;
use crate::storage::crypto::ServerKey;
use crate::storage::{check_directory, check_endpoint, check_prefix, Place, S3Location, Storage, StorageError};
use crate::store::backup::{self as q, PolicyRow, StorageRow};
use crate::store::{new_id, Db, StoreError};

/// What the backup engine needs beyond the database: settings, the managed storage, the server key,
/// and the cancel switches of the jobs running in this process.
pub struct BackupEnv {
    pub settings: BackupSettings,
    pub managed: Storage,
    pub key: ServerKey,
    running: Mutex<HashMap<String, (CancellationToken, Arc<Mutex<Option<String>>>)>>,
    /// Held (shared) while a job writes to a storage, (exclusively) while garbage is collected from it.
    storage_locks: Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>,
    /// Percent done of the restores running here: a restore writes in one transaction, so its
    /// progress cannot go through the database until it commits.
    restore_progress: Mutex<HashMap<String, u8>>,
    /// Held by a restore from the start of its write transaction to its commit. SQLite has one
    /// writer: without this, a second restore would wait for the first inside SQLite's busy timeout
    /// and fail when the first writes for longer than that; with it, it waits its turn here.
    pub(crate) restore_writes: Arc<tokio::sync::Mutex<()>>,
    /// Wakes the job runner when a job is queued, so it starts at once rather than at the runner's
    /// next poll (`jobs.poll`, which still finds jobs queued by another process).
    jobs_queued: tokio::sync::Notify,
}

impl BackupEnv {
    pub fn new(settings: BackupSettings, managed: Storage, key: ServerKey) -> BackupEnv {
        BackupEnv {
            settings,
            managed,
            key,
            running: Mutex::default(),
            storage_locks: Mutex::default(),
            restore_progress: Mutex::default(),
            restore_writes: Arc::default(),
            jobs_queued: tokio::sync::Notify::new(),
        }
    }

    /// Wakes the job runner: a job was queued (call after the queueing transaction commits) or a slot
    /// came free. A wake-up while the runner is busy is kept for its next wait, never lost.
    pub(crate) fn wake_job_runner(&self) {
        self.jobs_queued.notify_one();
    }

    pub(crate) async fn job_runner_woken(&self) {
        self.jobs_queued.notified().await;
    }

    pub(crate) fn set_restore_progress(&self, restore_id: &str, percent: u8) {
        self.restore_progress.lock().expect("lock poisoned").insert(restore_id.to_owned(), percent);
    }

    pub(crate) fn clear_restore_progress(&self, restore_id: &str) {
        self.restore_progress.lock().expect("lock poisoned").remove(restore_id);
    }

    pub(crate) fn restore_progress(&self, restore_id: &str) -> Option<u8> {
        self.restore_progress.lock().expect("lock poisoned").get(restore_id).copied()
    }

    pub(crate) fn storage_lock(&self, storage_key: &str) -> Arc<tokio::sync::RwLock<()>> {
        self.storage_locks.lock().expect("lock poisoned").entry(storage_key.to_owned()).or_default().clone()
    }

    /// Registers a running job's cancel switch (by subject id).
    pub(crate) fn register(&self, subject_id: &str) -> (CancellationToken, Arc<Mutex<Option<String>>>) {
        let entry = (CancellationToken::new(), Arc::new(Mutex::new(None)));
        self.running.lock().expect("lock poisoned").insert(subject_id.to_owned(), entry.clone());
        entry
    }

    pub(crate) fn unregister(&self, subject_id: &str) {
        self.running.lock().expect("lock poisoned").remove(subject_id);
    }

    /// Flips the cancel switch of a job running here; false when it runs elsewhere (or not at all).
    pub(crate) fn cancel_local(&self, subject_id: &str, by: &str) -> bool {
        let running = self.running.lock().expect("lock poisoned");
        match running.get(subject_id) {
            Some((token, who)) => {
                *who.lock().expect("lock poisoned") = Some(by.to_owned());
                token.cancel();
                true
            }
            None => false,
        }
    }
}

fn storage_not_found() -> ServiceError {
    ServiceError::not_found("STORAGE_NOT_FOUND", "no such storage in this organization")
}

fn storage_error(code: &'static str) -> impl Fn(StorageError) -> ServiceError {
    move |e| ServiceError::validation(code, e.to_string())
}

/// Opens an external storage (credentials unsealed in memory only).
pub(crate) fn open_external(env: &BackupEnv, row: &StorageRow) -> Result<Storage, ServiceError> {
    let s = &row.storage;
    match s.storage_type {
        StorageType::Filesystem => {
            let path = s.path.as_deref().ok_or_else(|| ServiceError::Unexpected("filesystem storage without path".into()))?;
            let dir = check_directory(path, &env.settings.filesystem_roots).map_err(storage_error("INVALID_STORAGE_PATH"))?;
            Storage::local(s.storage_id.clone(), &dir.join(&s.storage_prefix)).map_err(|e| ServiceError::unprocessable("STORAGE_UNREACHABLE", e.to_string()))
        }
        StorageType::Aws => {
            // Checked at every use, as filesystem roots are: an endpoint the operator no longer
            // lists is not reached.
            if let Some(endpoint) = &s.endpoint {
                check_endpoint(endpoint, &env.settings.s3_endpoints).map_err(|e| ServiceError::unprocessable("STORAGE_UNREACHABLE", e.to_string()))?;
            }
            let (access_key_id, secret_access_key) = match &row.sealed_credentials {
                Some(sealed) => {
                    let plain = env
                        .key
                        .open(sealed, &s.storage_id)
                        .map_err(|e| ServiceError::Unexpected(format!("storage {}: {e}", s.storage_id)))?;
                    let c: Credentials = serde_json::from_slice(&plain)
                        .map_err(|e| ServiceError::Unexpected(format!("storage {}: sealed credentials: {e}", s.storage_id)))?;
                    (Some(c.access_key_id), Some(c.secret_access_key))
                }
                None => (None, None),
            };
            let loc = S3Location {
                bucket: s.storage_name.clone(),
                region: s.storage_region.clone().unwrap_or_else(|| "us-east-1".into()),
                endpoint: s.endpoint.clone(),
                prefix: s.storage_prefix.clone(),
                access_key_id,
                secret_access_key,
            };
            Storage::s3(s.storage_id.clone(), &loc).map_err(|e| ServiceError::unprocessable("STORAGE_UNREACHABLE", e.to_string()))
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

/// The storage a backup, policy or transfer uses: `None` is managed storage.
pub(crate) async fn storage_by_id(
    backend: &super::Backend,
    org_id: &str,
    storage_id: Option<&str>,
) -> Result<Storage, ServiceError> {
    match storage_id {
        None => Ok(backend.backup.managed.clone()),
        Some(id) => {
            let row = q::find_storage(&backend.db, org_id, id).await?.ok_or_else(storage_not_found)?;
            refuse_if_sharing_an_earlier_place(backend, &row).await?;
            open_external(&backend.backup, &row)
        }
    }
}

// ---- storages ----

/// `POST /orgs/{orgId}/storages/regions`.
pub async fn regions(backend: &super::Backend, admin_id: &str, org_id: &str) -> Result<Regions, ServiceError> {
    require_org_admin(&backend.db, admin_id, org_id).await?;
    Ok(Regions { regions: backend.backup.settings.regions.clone() })
}

fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// S3 bucket names: 3–63 of lower-case letters, digits, `.` and `-`.
fn check_bucket(name: &str) -> Result<(), ServiceError> {
    let ok = (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation("INVALID_STORAGE_NAME", "storageName must be an S3 bucket name (3-63 lower-case letters, digits, '.', '-')"))
    }
}

/// `POST /orgs/{orgId}/storages`: checks the request, seals the credentials, probes the storage
/// (write, read, delete) and only then records it.
pub async fn create_storage(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    req: NewStorage,
) -> Result<StorageInfo, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "storage.create").target(req.storage_name.clone());
    let result = create_storage_unaudited(backend, admin_id, org_id, req).await;
    event.record(&backend.db, result, |x| Some(x.storage_id.clone())).await
}

async fn create_storage_unaudited(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    req: NewStorage,
) -> Result<StorageInfo, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let env = &backend.backup;
    let storage_type = StorageType::parse(&req.storage_type).ok_or_else(|| {
        ServiceError::validation("INVALID_STORAGE_TYPE", "storageType must be \"aws\" or \"filesystem\"")
    })?;
    let cloud_id = optional(&req.cloud_id);
    if let Some(cloud) = &cloud_id {
        crate::store::platform::find_site(db, org_id, cloud)
            .await?
            .ok_or_else(|| ServiceError::not_found("SITE_NOT_FOUND", "no such site in this organization"))?;
    }
    let prefix = check_prefix(req.storage_prefix.as_deref().unwrap_or("")).map_err(storage_error("INVALID_STORAGE_PREFIX"))?;
    let storage_id = new_id();
    let mut sealed = None;
    let (name, region, endpoint, path) = match storage_type {
        StorageType::Aws => {
            let name = req.storage_name.trim().to_owned();
            check_bucket(&name)?;
            let region = optional(&req.storage_region)
                .ok_or_else(|| ServiceError::validation("INVALID_REGION", "storageRegion is required"))?;
            if !env.settings.regions.contains(&region) {
                return Err(ServiceError::validation(
                    "INVALID_REGION",
                    format!("storageRegion must be one of the regions this server supports: {}", env.settings.regions.join(", ")),
                ));
            }
            let endpoint = optional(&req.endpoint);
            if let Some(e) = &endpoint {
                check_endpoint(e, &env.settings.s3_endpoints).map_err(storage_error("INVALID_ENDPOINT"))?;
            }
            match (optional(&req.access_key_id), req.secret_access_key.clone().filter(|s| !s.is_empty())) {
                (Some(access_key_id), Some(secret_access_key)) => {
                    let plain = serde_json::to_vec(&Credentials { access_key_id, secret_access_key })
                        .map_err(|e| ServiceError::Unexpected(e.to_string()))?;
                    sealed = Some(env.key.seal(&plain, &storage_id));
                }
                (None, None) => {}
                _ => {
                    return Err(ServiceError::validation(
                        "INVALID_CREDENTIALS",
                        "send both accessKeyId and secretAccessKey, or neither",
                    ))
                }
            }
            (name, Some(region), endpoint, None)
        }
        StorageType::Filesystem => {
            let path = optional(&req.path)
                .ok_or_else(|| ServiceError::validation("INVALID_STORAGE_PATH", "path is required for a filesystem storage"))?;
            let dir = check_directory(&path, &env.settings.filesystem_roots).map_err(storage_error("INVALID_STORAGE_PATH"))?;
            let name = match req.storage_name.trim() {
                "" => dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "filesystem".into()),
                n => n.chars().take(200).collect(),
            };
            (name, None, None, Some(dir.to_string_lossy().into_owned()))
        }
    };
    let row = StorageRow {
        org_id: org_id.to_owned(),
        sealed_credentials: sealed,
        // Checked below, before the probe and in the insert's transaction.
        place_checked: true,
        storage: StorageInfo {
            storage_id,
            storage_type,
            storage_name: name,
            storage_region: region,
            storage_prefix: prefix,
            cloud_id,
            endpoint,
            path,
            role_identifier: optional(&req.role_identifier),
            principal_tag: optional(&req.principal_tag),
            has_credentials: false,
            created_at: q::now_ms(),
            created_by: admin_email(db, admin_id).await?,
        },
    };
    // Before the probe writes there, and again in the insert's transaction.
    let place = q::place(&row.storage).ok_or_else(|| ServiceError::Unexpected("a new storage without a place".into()))?;
    refuse_shared_place(env, &place, &q::storage_places(db, None).await?)?;
    let storage = open_external(env, &row)?;
    storage.probe().await.map_err(|e| {
        ServiceError::unprocessable("STORAGE_UNREACHABLE", format!("the storage could not be used: {e}"))
    })?;
    let mut tx = begin(db).await?;
    refuse_shared_place(env, &place, &q::storage_places(&mut *tx, None).await?)?;
    q::insert_storage(&mut *tx, &row).await?;
    commit(tx).await?;
    let mut info = row.storage;
    info.has_credentials = row.sealed_credentials.is_some();
    tracing::info!(storage_id = %info.storage_id, org_id, kind = %info.storage_type, "storage created");
    Ok(info)
}

/// A storage's place (`storage::Place`: a filesystem directory, or an S3 bucket's prefix) is its
/// own: not managed storage's, nor another storage's (of any organization), nor inside or around
/// one. Blobs are shared by name within a place, so a shared one would let one storage's retention
/// delete blobs another's backups use, and let an organization see (and import) what another wrote
/// there. `STORAGE_PATH_IN_USE` when `place` overlaps managed storage's or one of `taken`.
fn refuse_shared_place(env: &BackupEnv, place: &Place, taken: &[Place]) -> Result<(), ServiceError> {
    let managed = match &env.settings.managed_storage {
        ManagedStorage::Filesystem { path } => path.clone().map(Place::Directory),
        ManagedStorage::S3 { bucket, endpoint, prefix, .. } => {
            Some(Place::Bucket { endpoint: endpoint.clone(), bucket: bucket.clone(), prefix: prefix.clone() })
        }
    };
    if managed.iter().chain(taken).any(|other| place.overlaps(other)) {
        let what = match place {
            Place::Directory(_) => "the directory is, holds or lies inside managed storage's or another storage's directory; give each storage a directory of its own",
            Place::Bucket { .. } => "this bucket prefix is, holds or lies inside managed storage's or another storage's prefix on the same bucket; give each storage a prefix of its own",
        };
        return Err(ServiceError::conflict("STORAGE_PATH_IN_USE", what));
    }
    Ok(())
}

/// Storages recorded before the rule of `refuse_shared_place` (migrations 0011 and 0012) may share
/// a place: the one created later is refused at every use, so the first keeps working and the two
/// never mix their backups and blobs. Storages created since were checked at their create.
async fn refuse_if_sharing_an_earlier_place(backend: &super::Backend, row: &q::StorageRow) -> Result<(), ServiceError> {
    let (false, Some(place)) = (row.place_checked, q::place(&row.storage)) else { return Ok(()) };
    let earlier = (row.storage.created_at.timestamp_millis(), row.storage.storage_id.as_str());
    refuse_shared_place(&backend.backup, &place, &q::storage_places(&backend.db, Some(earlier)).await?)
}

pub async fn list_storages(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    filter: StorageFilter,
) -> Result<Vec<StorageInfo>, ServiceError> {
    require_org_admin(&backend.db, admin_id, org_id).await?;
    Ok(q::list_storages(&backend.db, org_id, filter.cloud_id.as_deref(), filter.product).await?)
}

pub async fn get_storage(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    storage_id: &str,
) -> Result<StorageInfo, ServiceError> {
    require_org_admin(&backend.db, admin_id, org_id).await?;
    Ok(q::find_storage(&backend.db, org_id, storage_id).await?.ok_or_else(storage_not_found)?.storage)
}

// ---- policies ----

fn policy_not_found() -> ServiceError {
    ServiceError::not_found("POLICY_NOT_FOUND", "no such backup policy in this organization")
}

fn personal_spaces_for_jira() -> ServiceError {
    ServiceError::validation("PERSONAL_SPACES_NOT_APPLICABLE", "includePersonalSpaces applies to Confluence policies only")
}

fn next_run_for(policy: &Policy) -> Option<chrono::DateTime<Utc>> {
    policy.schedule.as_ref().and_then(|s| schedule::next_run(s, Utc::now()))
}

/// A storage a policy may use: the org's, (when it names a site) the policy's site, and not one
/// refused for sharing an earlier storage's place (its backups would all fail).
async fn check_policy_storage(backend: &super::Backend, org_id: &str, cloud_id: &str, storage_id: &str) -> Result<(), ServiceError> {
    let row = q::find_storage(&backend.db, org_id, storage_id).await?.ok_or_else(storage_not_found)?;
    if row.storage.cloud_id.as_deref().is_some_and(|c| c != cloud_id) {
        return Err(ServiceError::validation("STORAGE_OTHER_SITE", "this storage belongs to another site"));
    }
    refuse_if_sharing_an_earlier_place(backend, &row).await
}

fn policy_conflict(e: StoreError) -> ServiceError {
    if e.is_unique_violation() {
        ServiceError::conflict(
            "POLICY_EXISTS",
            "this app already has a policy on this kind of storage (at most one on managed and one on external storage)",
        )
    } else {
        e.into()
    }
}

/// `POST /orgs/{orgId}/cloud/{cloudId}/policies`.
pub async fn create_policy(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewPolicy,
) -> Result<Policy, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "policy.create").target(cloud_id);
    let result = create_policy_unaudited(backend, admin_id, org_id, cloud_id, req).await;
    event.record(&backend.db, result, |x| Some(x.policy_id.clone())).await
}

async fn create_policy_unaudited(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewPolicy,
) -> Result<Policy, ServiceError> {
    let db = &backend.db;
    org_app(db, admin_id, org_id, cloud_id, req.product).await?;
    if req.product == Product::Jira && req.include_personal_spaces.is_some() {
        return Err(personal_spaces_for_jira());
    }
    if let Some(s) = &req.schedule {
        schedule::validate(s).map_err(|e| ServiceError::validation("INVALID_SCHEDULE", e.to_string()))?;
    }
    let storage_id = optional(&req.storage_id);
    if let Some(id) = &storage_id {
        check_policy_storage(backend, org_id, cloud_id, id).await?;
    }
    let mut policy = Policy {
        policy_id: new_id(),
        cloud_id: cloud_id.to_owned(),
        product: req.product,
        storage_id,
        include_attachments: req.include_attachments,
        include_users_and_groups: req.include_users_and_groups,
        include_personal_spaces: (req.product == Product::Confluence).then(|| req.include_personal_spaces.unwrap_or(false)),
        schedule: req.schedule,
        status: PolicyStatus::Active,
        next_run_at: None,
        created_at: q::now_ms(),
        created_by: admin_email(db, admin_id).await?,
        last_backup_time: None,
    };
    policy.next_run_at = next_run_for(&policy);
    q::save_policy(db, org_id, &policy).await.map_err(policy_conflict)?;
    Ok(policy)
}

/// A policy of the org whose app the caller administers.
pub(crate) async fn policy_for_admin(db: &Db, admin_id: &str, org_id: &str, policy_id: &str) -> Result<PolicyRow, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let row = q::find_policy(db, org_id, policy_id).await?.ok_or_else(policy_not_found)?;
    require_app_admin(db, admin_id, org_id, &row.policy.cloud_id, row.policy.product).await?;
    Ok(row)
}

pub async fn get_policy(backend: &super::Backend, admin_id: &str, org_id: &str, policy_id: &str) -> Result<Policy, ServiceError> {
    Ok(policy_for_admin(&backend.db, admin_id, org_id, policy_id).await?.policy)
}

/// `GET /orgs/{orgId}/policies`: the policies of the apps the caller administers.
pub async fn list_policies(backend: &super::Backend, admin_id: &str, org_id: &str) -> Result<Vec<Policy>, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let policies = q::list_policies(db, org_id).await?.into_iter().map(|row| row.policy).collect();
    only_administered(db, admin_id, org_id, policies, |p| (&p.cloud_id, p.product)).await
}

/// `PUT /orgs/{orgId}/policies/{policyId}`: only the fields sent change.
pub async fn update_policy(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    policy_id: &str,
    req: PolicyUpdate,
) -> Result<Policy, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "policy.update").target(policy_id);
    let result = update_policy_unaudited(backend, admin_id, org_id, policy_id, req).await;
    event.record(&backend.db, result, |_| None).await
}

async fn update_policy_unaudited(
    backend: &super::Backend,
    admin_id: &str,
    org_id: &str,
    policy_id: &str,
    req: PolicyUpdate,
) -> Result<Policy, ServiceError> {
    let db = &backend.db;
    let mut tx = begin(db).await?;
    let row = policy_for_admin(db, admin_id, org_id, policy_id).await?;
    let mut p = row.policy;
    if let Some(id) = optional(&req.storage_id) {
        check_policy_storage(backend, org_id, &p.cloud_id, &id).await?;
        p.storage_id = Some(id);
    }
    if let Some(v) = req.include_attachments {
        p.include_attachments = v;
    }
    if let Some(v) = req.include_users_and_groups {
        p.include_users_and_groups = v;
    }
    if let Some(v) = req.include_personal_spaces {
        if p.product == Product::Jira {
            return Err(personal_spaces_for_jira());
        }
        p.include_personal_spaces = Some(v);
    }
    if let Some(schedule) = req.schedule {
        if let Some(s) = &schedule {
            schedule::validate(s).map_err(|e| ServiceError::validation("INVALID_SCHEDULE", e.to_string()))?;
        }
        p.schedule = schedule;
        p.status = PolicyStatus::Active;
        p.next_run_at = next_run_for(&p);
    }
    q::save_policy(&mut *tx, org_id, &p).await.map_err(policy_conflict)?;
    commit(tx).await?;
    Ok(p)
}
