//! Restores: refusals, validation (checks and the plan, before any consent), consent through
//! `revalidate`, and the job that writes the destination — all or nothing, in one transaction —
//! then the post-operation report. Restored groups' access arrives PENDING_REVIEW.

use crate::service::audit::AuditEvent;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sqlx::{Connection, SqliteConnection};

use super::backup::run::{JobControl, RunError};
use super::backup::storage_by_id;
use super::identity::{require_app_admin, require_org_admin};
use super::platform::{admin_email, begin, commit, org_app};
use super::{Backend, ServiceError};
use crate::archive::reader::fetch_part;
use crate::archive::records::*;
use crate::archive::{read_manifest, ArchiveError, Manifest, PartReader};
use crate::model::{
    BackupStatus, NewRestore, Plan, PlanEntry, PostOpReport, Product, Progress, Restore, RestoreFilter, RestoreStatus,
    Revalidate, Role, SkippedItem,
};
use crate::rules::restore::{self as rules, ConsentOutcome, Facts};
use crate::storage::Storage;
use crate::store::backup::{self as bq, now_ms};
use crate::store::jobs::{self as jq, JobKind};
use crate::store::restore as q;
use crate::store::{new_id, platform as pq, StoreError};

/// Skipped keys listed per kind in a plan or report.
const SKIPPED_LISTED: usize = 1000;

fn restore_not_found() -> ServiceError {
    ServiceError::not_found("RESTORE_NOT_FOUND", "no such restore in this organization")
}

/// `POST /orgs/{orgId}/cloud/{destCloudId}/restores` (202). Refusals first (nothing is created),
/// then validation; with no warning the restore starts at once.
pub async fn create_restore(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    dest_cloud: &str,
    req: NewRestore,
) -> Result<Restore, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "restore.create").target(format!("{} -> {dest_cloud}", req.backup_id));
    let result = create_restore_unaudited(backend, admin_id, org_id, dest_cloud, req).await;
    let result = event.record(&backend.db, result, |x| Some(x.restore_id.clone())).await;
    start_if_queued(backend, &result);
    result
}

/// Wakes the job runner for a restore that validation queued, once the request's audit entry is
/// written: woken before it, the job could begin its write transaction first, and the entry (and
/// with it the request's answer) then waited for the whole restore — past SQLite's busy timeout on
/// a large one, and the entry was lost. (The runner's own poll can still start it in between, a
/// window of about a millisecond.)
fn start_if_queued(backend: &Backend, result: &Result<Restore, ServiceError>) {
    if matches!(result, Ok(r) if r.status == RestoreStatus::InProgress) {
        backend.backup.wake_job_runner();
    }
}

async fn create_restore_unaudited(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    dest_cloud: &str,
    req: NewRestore,
) -> Result<Restore, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let backup = bq::find_backup(db, &req.backup_id)
        .await?
        .filter(|b| b.org_id == org_id)
        .ok_or_else(|| ServiceError::not_found("BACKUP_NOT_FOUND", "no such backup in this organization"))?;
    require_app_admin(db, admin_id, org_id, &backup.backup.cloud_id, backup.backup.product).await?;
    let b = &backup.backup;
    if req.product != b.product {
        return Err(ServiceError::validation("PRODUCT_MISMATCH", format!("the backup is of {}, not {}", b.product, req.product)));
    }
    org_app(db, admin_id, org_id, dest_cloud, req.product).await.map_err(|e| match e {
        ServiceError::NotFound { code: "APP_NOT_FOUND", .. } => {
            ServiceError::not_found("DESTINATION_APP_NOT_FOUND", format!("the destination site does not run {}", req.product))
        }
        other => other,
    })?;
    if pq::find_app(db, dest_cloud, req.product).await?.is_some_and(|a| a.state == crate::model::AppState::Deactivated) {
        return Err(ServiceError::conflict("DESTINATION_DEACTIVATED", "the destination app is deactivated"));
    }
    if b.status == BackupStatus::Expired || (b.status.is_restorable() && b.expiry_time <= Utc::now()) {
        return Err(ServiceError::conflict("BACKUP_EXPIRED", "the backup has expired; its archive is gone"));
    }
    if !b.status.is_restorable() {
        return Err(ServiceError::conflict(
            "BACKUP_NOT_RESTORABLE",
            format!("the backup is {}; only COMPLETE or INCOMPLETE backups can be restored", b.status),
        ));
    }
    if dest_cloud == b.cloud_id {
        return Err(ServiceError::validation("SAME_SITE", "restore into another site of the organization"));
    }
    let include_attachments = req.include_attachments.unwrap_or(b.include_attachments);
    if include_attachments && !b.include_attachments {
        return Err(ServiceError::validation("ATTACHMENTS_NOT_IN_BACKUP", "this backup was taken without attachments"));
    }
    let include_users_and_groups = req.include_users_and_groups.unwrap_or(b.include_users_and_groups);
    if include_users_and_groups && !b.include_users_and_groups {
        return Err(ServiceError::validation("USERS_NOT_IN_BACKUP", "this backup was taken without users and groups"));
    }
    if req.product == Product::Jira && req.include_personal_spaces.is_some() {
        return Err(ServiceError::validation("PERSONAL_SPACES_NOT_APPLICABLE", "includePersonalSpaces applies to Confluence only"));
    }
    let include_personal_spaces = req.include_personal_spaces.unwrap_or(b.include_personal_spaces) && b.include_personal_spaces;
    if bq::app_is_busy(db, dest_cloud, req.product).await? {
        return Err(ServiceError::conflict("APP_BUSY", "a backup or restore of the destination app is running"));
    }
    let min = backend.backup.settings.restore_min_interval;
    if let Some(last) = q::last_restore_of_backup(db, &b.backup_id).await? {
        let next = last + chrono::Duration::from_std(min).unwrap_or_default();
        if !min.is_zero() && next > Utc::now() {
            return Err(ServiceError::LimitExceeded {
                code: "RESTORE_TOO_SOON",
                message: format!("this backup was restored recently; it can be restored again after {}", next.to_rfc3339()),
                retry_after_secs: (next - Utc::now()).num_seconds().max(1) as u64,
            });
        }
    }
    if req.product == Product::Jira && pq::app_contains_data(db, dest_cloud, Product::Jira).await? {
        return Err(ServiceError::conflict(
            "DESTINATION_HAS_DATA",
            "the destination Jira already contains data; restore Jira into an empty app",
        ));
    }
    let mut restore = Restore {
        restore_id: new_id(),
        backup_id: b.backup_id.clone(),
        cloud_id: dest_cloud.to_owned(),
        product: req.product,
        status: RestoreStatus::Validating,
        status_code: None,
        status_message: None,
        include_attachments,
        include_users_and_groups,
        include_personal_spaces,
        checks: vec![],
        plan: BTreeMap::new(),
        consents: vec![],
        migration_id: None,
        progress: Progress::default(),
        created_at: now_ms(),
        created_by: admin_email(db, admin_id).await?,
        started_at: None,
        completed_at: None,
    };
    // Stored only once validated, in one write (the outcome's): a refusal at the last moment (the
    // app became busy) or an error — the database busy with another restore's writes among them —
    // leaves nothing behind.
    validate_and_advance(backend, org_id, &mut restore, Stored::New).await?;
    Ok(restore)
}

/// `POST /orgs/{orgId}/cloud/{destCloudId}/restores/revalidate`: checks again (the destination may
/// have changed) and starts the restore once every warning has its consent.
pub async fn revalidate(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    dest_cloud: &str,
    req: Revalidate,
) -> Result<Restore, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "restore.revalidate").target(req.restore_id.clone());
    let result = revalidate_unaudited(backend, admin_id, org_id, dest_cloud, req).await;
    let result = event.record(&backend.db, result, |_| None).await;
    start_if_queued(backend, &result);
    result
}

async fn revalidate_unaudited(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    dest_cloud: &str,
    req: Revalidate,
) -> Result<Restore, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let consents = rules::parse_consents(&req.consent).map_err(|e| ServiceError::validation("INVALID_CONSENT", e.to_string()))?;
    let (owner, mut restore, _) = q::find_restore(db, &req.restore_id).await?.ok_or_else(restore_not_found)?;
    if owner != org_id || restore.cloud_id != dest_cloud {
        return Err(restore_not_found());
    }
    require_app_admin(db, admin_id, org_id, dest_cloud, restore.product).await?;
    if restore.status != RestoreStatus::AwaitingConsent {
        return Err(ServiceError::conflict("RESTORE_NOT_AWAITING_CONSENT", format!("the restore is {}", restore.status)));
    }
    let backup = bq::find_backup(db, &restore.backup_id).await?;
    // Starting the restore copies the backed-up app's data: as at its create, the caller must
    // administer that app too, not only the destination (an admin of the destination alone cannot
    // start another admin's restore).
    if let Some(b) = &backup {
        require_app_admin(db, admin_id, org_id, &b.backup.cloud_id, b.backup.product).await?;
    }
    // What may have changed while the restore waited.
    if backup.as_ref().is_none_or(|b| !b.backup.status.is_restorable() || b.backup.expiry_time <= Utc::now()) {
        return Err(ServiceError::conflict("BACKUP_EXPIRED", "the backup has expired; its archive is gone"));
    }
    if restore.product == Product::Jira && pq::app_contains_data(db, dest_cloud, Product::Jira).await? {
        return Err(ServiceError::conflict("DESTINATION_HAS_DATA", "the destination Jira now contains data"));
    }
    restore.consents = consents;
    validate_and_advance(backend, org_id, &mut restore, Stored::Existing).await?;
    Ok(restore)
}

/// Whether the restore being validated is new (stored once validated) or stored already (a
/// revalidation updates it).
#[derive(Clone, Copy)]
enum Stored {
    New,
    Existing,
}

/// Stores a validation's outcome (`facts`: new archive facts to keep, if any). A revalidation
/// finds the restore no longer awaiting consent when another revalidation of it ended first: that
/// one's outcome stands (inside a transaction, the caller's `?` rolls back the app's lock).
async fn save_outcome<'e>(
    ex: impl sqlx::SqliteExecutor<'e>,
    org_id: &str,
    restore: &Restore,
    facts: Option<&str>,
    stored: Stored,
) -> Result<(), ServiceError> {
    match stored {
        Stored::New => q::insert_restore(ex, org_id, restore, facts).await?,
        Stored::Existing => {
            if !q::save_validation(ex, restore, facts).await? {
                return Err(ServiceError::conflict(
                    "RESTORE_NOT_AWAITING_CONSENT",
                    "the restore is no longer awaiting consent: another request moved it on",
                ));
            }
        }
    }
    Ok(())
}

/// Validates, saves checks and plan, and moves the restore on: AWAITING_CONSENT, FAILED, or
/// IN_PROGRESS (app locked, job queued) when nothing is missing, in one write (with the archive
/// facts validation learnt).
async fn validate_and_advance(backend: &Backend, org_id: &str, restore: &mut Restore, stored: Stored) -> Result<(), ServiceError> {
    let db = &backend.db;
    let started = std::time::Instant::now();
    let validated = validate(backend, org_id, restore, stored).await;
    tracing::debug!(restore_id = %restore.restore_id, ms = started.elapsed().as_millis() as u64, "validated");
    let facts = match validated {
        Ok(v) => {
            restore.checks = v.checks;
            restore.plan = v.plan;
            v.facts
        }
        Err(e) => {
            restore.status = RestoreStatus::Failed;
            restore.status_code = Some(e.code().to_owned());
            restore.status_message = Some(format!("The backup cannot be read: {e}"));
            restore.completed_at = Some(now_ms());
            save_outcome(db, org_id, restore, None, stored).await?;
            return Ok(());
        }
    };
    let facts = facts.as_deref();
    match rules::outcome(&restore.checks, &restore.consents) {
        ConsentOutcome::Failed(message) => {
            restore.status = RestoreStatus::Failed;
            restore.status_code = Some("VALIDATION_FAILED".into());
            restore.status_message = Some(message);
            restore.completed_at = Some(now_ms());
            save_outcome(db, org_id, restore, facts, stored).await?;
        }
        ConsentOutcome::Missing(missing) => {
            restore.status = RestoreStatus::AwaitingConsent;
            restore.status_code = Some("CONSENT_REQUIRED".into());
            restore.status_message = Some(format!("Waiting for consent: {}", missing.join(", ")));
            save_outcome(db, org_id, restore, facts, stored).await?;
        }
        ConsentOutcome::Ready { .. } => {
            let mut tx = begin(db).await?;
            if !bq::try_lock_app(&mut *tx, &restore.cloud_id, restore.product, "RESTORE", &restore.restore_id).await? {
                tx.rollback().await.map_err(StoreError::from)?;
                // A stored restore keeps what this validation learnt for its next revalidation.
                if let (Stored::Existing, Some(facts)) = (stored, facts) {
                    if let Err(e) = q::save_validation_facts(db, &restore.restore_id, facts).await {
                        tracing::warn!(restore_id = %restore.restore_id, error = %e, "validation facts not kept");
                    }
                }
                return Err(ServiceError::conflict("APP_BUSY", "a backup or restore of the destination app is running"));
            }
            restore.status = RestoreStatus::InProgress;
            restore.status_code = None;
            restore.status_message = Some("Queued".into());
            save_outcome(&mut *tx, org_id, restore, facts, stored).await?;
            jq::enqueue(&mut *tx, JobKind::Restore, &restore.restore_id).await?;
            commit(tx).await?;
            // The caller wakes the job runner (`start_if_queued`).
        }
    }
    Ok(())
}

/// What validation learnt from the archive about the destination, kept (migration 0008) so that a
/// revalidation — a consent — with the destination unchanged need not read every part again.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchiveFacts {
    /// The destination app's change generation, taken before validation looked at it.
    generation: i64,
    /// The plan depends on this consent (denied custom groups are skipped).
    deny_custom: bool,
    conflicting_keys: Vec<String>,
    conflicting_groups: Vec<String>,
    custom_groups: Vec<String>,
    /// The plan made with them (kept here, not taken from the restore row: a revalidation refused
    /// with APP_BUSY saves facts but not its plan).
    plan: BTreeMap<String, PlanEntry>,
}

/// Reads the backup's manifest and parts (each verified) and the destination, and derives the
/// checks and the plan. A revalidation whose destination has not changed since the last validation
/// (the change marks of migration 0007 cover its content and the organization's directory), with
/// the same choice on custom groups, keeps that validation's plan and archive facts; the checks are
/// always evaluated again (plans and shards are read afresh), and the job verifies every part anyway.
async fn validate(backend: &Backend, org_id: &str, restore: &Restore, stored: Stored) -> Result<Validated, ArchiveError> {
    let db = &backend.db;
    let setup = load(backend, org_id, restore).await.map_err(|e| ArchiveError::ManifestInvalid(e.to_string()))?;
    let deny_custom = restore.consents.iter().any(|c| c == rules::DENY_CUSTOM_GROUP);
    // The facts are an optimisation: a database busy with another restore's writes must not fail
    // this one, so without a generation (or the facts) the archive is simply read.
    let generation = match bq::next_change_generation(db, &restore.cloud_id, restore.product).await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(restore_id = %restore.restore_id, error = %e, "no change generation: validating from the archive");
            None
        }
    };
    let changed_in = bq::changed_in(db, &restore.cloud_id, restore.product).await.unwrap_or(i64::MAX);
    let earlier = match stored {
        Stored::New => None,
        Stored::Existing => q::validation_facts(db, &restore.restore_id).await.ok().flatten(),
    }
    .and_then(|json| serde_json::from_str::<ArchiveFacts>(&json).ok())
    .filter(|f| f.deny_custom == deny_custom && changed_in < f.generation);
    let (archive, new_facts) = match earlier {
        Some(facts) => (facts, None),
        None => {
            let mut planner =
                Planner::new(backend, org_id, restore, &setup).await.map_err(|e| ArchiveError::ManifestInvalid(e.to_string()))?;
            for entry in &setup.manifest.parts {
                // Every part is fetched and checked against its size and SHA-256 …
                let bytes = fetch_part(&setup.storage, &restore.backup_id, entry).await?;
                // … and decompressed only when its records can change the plan.
                if planner.all_created(&entry.kind) {
                    planner.created(&entry.kind, entry.records);
                    continue;
                }
                let mut reader = PartReader::new(entry, bytes)?;
                planner.part(&entry.kind, &mut reader, deny_custom).await.map_err(|e| match e {
                    PlanError::Archive(a) => a,
                    PlanError::Store(s) => ArchiveError::ManifestInvalid(s.to_string()),
                })?;
            }
            let facts = ArchiveFacts {
                generation: generation.unwrap_or(i64::MIN),
                deny_custom,
                conflicting_keys: planner.conflicting_keys,
                conflicting_groups: planner.conflicting_groups,
                custom_groups: planner.custom_groups,
                plan: planner.plan,
            };
            // Kept with the outcome; without a generation they could never be found current.
            let json = generation.is_some().then(|| serde_json::to_string(&facts).ok()).flatten();
            (facts, json)
        }
    };
    let site = pq::find_site(db, org_id, &restore.cloud_id).await.ok().flatten();
    let facts = Facts {
        product: Some(restore.product),
        conflicting_keys: archive.conflicting_keys,
        conflicting_groups: archive.conflicting_groups,
        backup_plan: Plan::parse(&setup.manifest.plan),
        destination_plan: Some(setup.dest_app.plan),
        backup_shard: setup.manifest.shard.clone(),
        destination_shard: setup.dest_app.shard.clone(),
        destination_site_free: site.is_some_and(|s| s.plan == Plan::Free || s.free_trial),
        custom_groups: archive.custom_groups,
    };
    Ok(Validated { checks: rules::evaluate(&facts), plan: archive.plan, facts: new_facts })
}

/// A validation's result: the checks, the plan, and the archive facts to keep (JSON; `None` when
/// the kept ones were reused or none can be kept).
struct Validated {
    checks: Vec<crate::model::Check>,
    plan: BTreeMap<String, PlanEntry>,
    facts: Option<String>,
}

/// What both validation and execution need.
struct Setup {
    storage: Storage,
    manifest: Manifest,
    dest_app: pq::AppRow,
    /// The backed-up site (the backup row's, not the archive's word).
    source_cloud: String,
}

async fn load(backend: &Backend, org_id: &str, restore: &Restore) -> Result<Setup, ServiceError> {
    let db = &backend.db;
    let backup = bq::find_backup(db, &restore.backup_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("BACKUP_NOT_FOUND", "the backup is gone"))?;
    let storage = storage_by_id(backend, org_id, backup.backup.storage_id.as_deref()).await?;
    let manifest = read_manifest(&storage, &restore.backup_id)
        .await
        .map_err(|e| ServiceError::unprocessable(e.code(), e.to_string()))?;
    // The archive's own product, not only the backup row's: an archive in external storage may
    // have been replaced since it was listed.
    if manifest.product != restore.product.as_str() {
        return Err(ServiceError::unprocessable(
            "MANIFEST_INVALID",
            format!("the archive is a {} backup, not {}", manifest.product, restore.product.as_str()),
        ));
    }
    // And its own organization and site: the rights were checked on the backup row's app, and the
    // blobs the restore may reuse unread are that app's (`copy_blobs`); an archive claiming to be
    // another's backup has been tampered with. (An import checks the same before it copies.)
    if manifest.org_id != org_id || manifest.cloud_id != backup.backup.cloud_id {
        return Err(ServiceError::unprocessable(
            "MANIFEST_INVALID",
            "the archive names another organization or site than the backup it is stored as",
        ));
    }
    let dest_app = pq::find_app(db, &restore.cloud_id, restore.product)
        .await?
        .ok_or_else(|| ServiceError::not_found("DESTINATION_APP_NOT_FOUND", "the destination app is gone"))?;
    Ok(Setup { storage, manifest, dest_app, source_cloud: backup.backup.cloud_id })
}

enum PlanError {
    Archive(ArchiveError),
    Store(StoreError),
}

impl From<ArchiveError> for PlanError {
    fn from(e: ArchiveError) -> Self {
        PlanError::Archive(e)
    }
}

impl From<StoreError> for PlanError {
    fn from(e: StoreError) -> Self {
        PlanError::Store(e)
    }
}

/// Walks the archive's records and decides, per record, create / skip (with why) / merge. Used by
/// validation (counting only) and, with the same decisions, by execution.
struct Planner {
    product: Product,
    include_attachments: bool,
    include_users: bool,
    include_personal: bool,
    dest_keys: HashSet<String>,
    existing_groups: HashSet<String>,
    existing_users: HashSet<String>,
    /// Source ids of projects, spaces, issues and pages that are skipped (their children are too).
    skipped_parents: HashSet<String>,
    /// Custom groups left out by Deny_Custom_Group_Check (their memberships and access too).
    denied_groups: HashSet<String>,
    plan: BTreeMap<String, PlanEntry>,
    conflicting_keys: Vec<String>,
    conflicting_groups: Vec<String>,
    custom_groups: Vec<String>,
    missing_bytes: u64,
}

/// The entity kinds as a plan and a report name them (comments of both apps are `comments`).
fn plan_kind(kind: &str) -> &str {
    match kind {
        ISSUE_COMMENTS | PAGE_COMMENTS => "comments",
        other => other,
    }
}

/// What to do with one record.
enum Decision {
    Create,
    Merge,
    Skip(String),
}

impl Planner {
    async fn new(backend: &Backend, org_id: &str, restore: &Restore, setup: &Setup) -> Result<Planner, ServiceError> {
        let db = &backend.db;
        let dest_keys: HashSet<String> = q::content_keys(db, &restore.cloud_id, restore.product).await?.into_iter().collect();
        let existing_groups: HashSet<String> = sqlx::query_scalar("SELECT name FROM groups WHERE org_id = ?")
            .bind(org_id)
            .fetch_all(db)
            .await
            .map_err(StoreError::from)?
            .into_iter()
            .collect();
        let existing_users: HashSet<String> = sqlx::query_scalar("SELECT email FROM users WHERE org_id = ?")
            .bind(org_id)
            .fetch_all(db)
            .await
            .map_err(StoreError::from)?
            .into_iter()
            .collect();
        let mut plan = BTreeMap::new();
        let kinds = app_kinds(restore.product);
        for k in kinds.iter().chain(if restore.include_users_and_groups && setup.manifest.options.include_users_and_groups {
            DIRECTORY_KINDS.iter()
        } else {
            [].iter()
        }) {
            plan.entry(plan_kind(k).to_owned()).or_insert_with(PlanEntry::default);
        }
        Ok(Planner {
            product: restore.product,
            include_attachments: restore.include_attachments,
            include_users: restore.include_users_and_groups,
            include_personal: restore.include_personal_spaces,
            dest_keys,
            existing_groups,
            existing_users,
            skipped_parents: HashSet::new(),
            denied_groups: HashSet::new(),
            plan,
            conflicting_keys: vec![],
            conflicting_groups: vec![],
            custom_groups: vec![],
            missing_bytes: 0,
        })
    }

    fn record(&mut self, kind: &str, key: Option<&str>, d: &Decision) {
        let e = self.plan.entry(plan_kind(kind).to_owned()).or_default();
        match d {
            Decision::Create => e.create += 1,
            Decision::Merge => e.merge += 1,
            Decision::Skip(reason) => {
                e.skip += 1;
                if let Some(key) = key {
                    if e.skipped.len() < SKIPPED_LISTED {
                        e.skipped.push(SkippedItem { key: key.to_owned(), reason: reason.clone() });
                    }
                }
            }
        }
    }

    fn project(&mut self, p: &ProjectRecord) -> Decision {
        if self.dest_keys.contains(&p.key) {
            self.conflicting_keys.push(p.key.clone());
            self.skipped_parents.insert(p.id.clone());
            Decision::Skip("a project with this key exists on the destination; its version stays".into())
        } else {
            Decision::Create
        }
    }

    fn space(&mut self, s: &SpaceRecord) -> Decision {
        if s.space_type == "personal" && !self.include_personal {
            self.skipped_parents.insert(s.id.clone());
            Decision::Skip("personal spaces are not included".into())
        } else if self.dest_keys.contains(&s.key) {
            self.conflicting_keys.push(s.key.clone());
            self.skipped_parents.insert(s.id.clone());
            Decision::Skip("a space with this key exists on the destination; its version stays".into())
        } else {
            Decision::Create
        }
    }

    /// Issues and pages: skipped with their project, space or parent page.
    fn child(&mut self, id: &str, parents: &[Option<&str>]) -> Decision {
        if parents.iter().flatten().any(|p| self.skipped_parents.contains(*p)) {
            self.skipped_parents.insert(id.to_owned());
            Decision::Skip("its project or space is skipped".into())
        } else {
            Decision::Create
        }
    }

    /// Issues, pages and comments are skipped only under a skipped project, space, issue or page
    /// (`child`, `comment`): while none is, every record of such a part is created, and validation
    /// counts them from the manifest instead of decompressing the part. The count is the one the job
    /// meets, or the job fails: it decodes every record and holds each part to the manifest's count.
    fn all_created(&self, kind: &str) -> bool {
        matches!(kind, ISSUES | PAGES | ISSUE_COMMENTS | PAGE_COMMENTS) && self.skipped_parents.is_empty()
    }

    /// Counts `records` records of `kind` as created (see `all_created`).
    fn created(&mut self, kind: &str, records: u64) {
        let e = self.plan.entry(plan_kind(kind).to_owned()).or_default();
        e.create = e.create.saturating_add(records);
    }

    fn comment(&self, parent: &str) -> Decision {
        if self.skipped_parents.contains(parent) {
            Decision::Skip("its issue or page is skipped".into())
        } else {
            Decision::Create
        }
    }

    fn attachment(&mut self, a: &AttachmentRecord) -> Decision {
        if self.skipped_parents.contains(&a.owner_id) {
            Decision::Skip("its issue or page is skipped".into())
        } else if !self.include_attachments {
            Decision::Skip("attachments are not included".into())
        } else if !a.bytes_included {
            self.missing_bytes += 1;
            Decision::Skip(a.missing_reason.clone().unwrap_or_else(|| "the backup holds no bytes for it".into()))
        } else {
            Decision::Create
        }
    }

    fn user(&self, u: &UserRecord) -> Decision {
        if self.existing_users.contains(&u.email) {
            Decision::Merge
        } else {
            Decision::Create
        }
    }

    fn group(&mut self, g: &GroupRecord, deny_custom: bool) -> Decision {
        if g.custom {
            self.custom_groups.push(g.name.clone());
            if deny_custom {
                self.denied_groups.insert(g.name.clone());
                return Decision::Skip("custom groups were denied (Deny_Custom_Group_Check)".into());
            }
        }
        if self.existing_groups.contains(&g.name) {
            self.conflicting_groups.push(g.name.clone());
            Decision::Merge
        } else {
            Decision::Create
        }
    }

    fn in_group(&self, group: &str) -> Decision {
        if self.denied_groups.contains(group) {
            Decision::Skip("its custom group was denied".into())
        } else {
            Decision::Create
        }
    }

    /// Plans one part (validation): every record decided and counted.
    async fn part(&mut self, kind: &str, r: &mut PartReader, deny_custom: bool) -> Result<(), PlanError> {
        if is_directory_kind(kind) && !self.include_users {
            return Ok(());
        }
        match kind {
            PROJECTS => {
                while let Some(p) = r.next::<ProjectRecord>()? {
                    let d = self.project(&p);
                    self.record(kind, Some(&p.key), &d);
                }
            }
            SPACES => {
                while let Some(s) = r.next::<SpaceRecord>()? {
                    let d = self.space(&s);
                    self.record(kind, Some(&s.key), &d);
                }
            }
            // The bulk kinds' ids only: their text is for the job (`IssueIds`).
            ISSUES => {
                while let Some(i) = r.next::<IssueIds>()? {
                    let d = self.child(&i.id, &[Some(&i.project_id)]);
                    self.record(kind, None, &d);
                }
            }
            PAGES => {
                while let Some(p) = r.next::<PageIds>()? {
                    let d = self.child(&p.id, &[Some(&p.space_id), p.parent_id.as_deref()]);
                    self.record(kind, None, &d);
                }
            }
            ISSUE_COMMENTS | PAGE_COMMENTS => {
                while let Some(c) = r.next::<CommentIds>()? {
                    let d = self.comment(&c.parent_id);
                    self.record(kind, None, &d);
                }
            }
            ATTACHMENTS => {
                while let Some(a) = r.next::<AttachmentRecord>()? {
                    let d = self.attachment(&a);
                    self.record(kind, Some(&a.filename), &d);
                }
            }
            USERS => {
                while let Some(u) = r.next::<UserRecord>()? {
                    let d = self.user(&u);
                    self.record(kind, None, &d);
                }
            }
            GROUPS => {
                while let Some(g) = r.next::<GroupRecord>()? {
                    let d = self.group(&g, deny_custom);
                    self.record(kind, Some(&g.name), &d);
                }
            }
            MEMBERSHIPS => {
                while let Some(m) = r.next::<MembershipRecord>()? {
                    let d = self.in_group(&m.group);
                    self.record(kind, None, &d);
                }
            }
            ACCESS => {
                while let Some(a) = r.next::<AccessRecord>()? {
                    let d = self.in_group(&a.group);
                    self.record(kind, Some(&a.group), &d);
                }
            }
            _ => {}
        }
        let _ = self.product;
        Ok(())
    }
}

// ---- reading ----

pub async fn get_restore(backend: &Backend, admin_id: &str, org_id: &str, restore_id: &str) -> Result<Restore, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let (owner, mut restore, _) = q::find_restore(db, restore_id).await?.ok_or_else(restore_not_found)?;
    if owner != org_id {
        return Err(restore_not_found());
    }
    require_app_admin(db, admin_id, org_id, &restore.cloud_id, restore.product).await?;
    if let Some(p) = backend.backup.restore_progress(restore_id) {
        restore.progress.percent = p;
    }
    Ok(restore)
}

/// `GET /orgs/{orgId}/restores[?cloudId&product]`: restores of the apps the caller administers.
pub async fn list_restores(backend: &Backend, admin_id: &str, org_id: &str, filter: RestoreFilter) -> Result<Vec<Restore>, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    // Other apps' restores are filtered out in SQL, so they never crowd the newest 500 out.
    let mut out = q::list_restores(db, org_id, admin_id, filter.cloud_id.as_deref(), filter.product).await?;
    for r in &mut out {
        if let Some(p) = backend.backup.restore_progress(&r.restore_id) {
            r.progress.percent = p;
        }
    }
    Ok(out)
}

/// `GET /orgs/{orgId}/cloud/{cloudId}/migration/{migrationId}/postOpReport`.
pub async fn post_op_report(
    backend: &Backend,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    migration_id: &str,
) -> Result<PostOpReport, ServiceError> {
    let db = &backend.db;
    require_org_admin(db, admin_id, org_id).await?;
    let not_found = || ServiceError::not_found("REPORT_NOT_FOUND", "no post-operation report with this migration id on this site");
    let (owner, restore, report) = q::find_by_migration(db, migration_id).await?.ok_or_else(not_found)?;
    if owner != org_id || restore.cloud_id != cloud_id {
        return Err(not_found());
    }
    require_app_admin(db, admin_id, org_id, cloud_id, restore.product).await?;
    let report = report.ok_or_else(|| ServiceError::conflict("REPORT_NOT_READY", "the restore is still running"))?;
    serde_json::from_str(&report).map_err(|e| ServiceError::Unexpected(format!("stored report: {e}")))
}

// ---- the job ----

/// The restore job: copies the blobs the destination lacks, then writes every record in one
/// transaction (a failure or a kill leaves the destination as it was), then the report.
pub async fn execute(backend: &Backend, restore_id: &str, ctl: &JobControl) -> Result<(), ServiceError> {
    let db = &backend.db;
    let Some((org_id, restore, _)) = q::find_restore(db, restore_id).await? else { return Ok(()) };
    if restore.status != RestoreStatus::InProgress {
        return Ok(());
    }
    let migration_id = new_id();
    q::mark_started(db, restore_id, &migration_id).await?;
    let started = Utc::now();
    // Declared before the transaction that borrows it, so dropped (given back) after it.
    let mut write_conn = WriteConn::new(backend);
    let (status, code, message, entities, tx, turn) = match run(backend, &org_id, &restore, ctl, &mut write_conn.conn).await {
        Ok((plan, missing, tx, turn)) => {
            let status = if missing > 0 { RestoreStatus::Incomplete } else { RestoreStatus::Complete };
            let message = (missing > 0).then(|| format!("{missing} attachment(s) had no bytes in the backup and were skipped"));
            (status, None, message, plan, Some(tx), Some(turn))
        }
        Err(e) => {
            let (code, message) = match e {
                RunError::Cancelled(who) => ("CANCELLED", format!("Cancelled by {who}")),
                RunError::Failed { code, message } => (code, message),
            };
            tracing::warn!(restore_id, code, %message, "restore failed; the destination is unchanged");
            (RestoreStatus::Failed, Some(code), Some(format!("{message}. The destination is unchanged.")), BTreeMap::new(), None, None)
        }
    };
    backend.backup.clear_restore_progress(restore_id);
    let completed = Utc::now();
    let report = PostOpReport {
        migration_id: migration_id.clone(),
        restore_id: restore_id.to_owned(),
        backup_id: restore.backup_id.clone(),
        cloud_id: restore.cloud_id.clone(),
        product: restore.product,
        status,
        entities,
        consents: restore.consents.clone(),
        requested_by: restore.created_by.clone(),
        started_at: started,
        completed_at: completed,
        duration_ms: (completed - started).num_milliseconds().max(0) as u64,
    };
    // A successful restore's turn to write (`turn`) lasts until this commit.
    let mut tx = match tx {
        Some(tx) => tx,
        None => begin(db).await?,
    };
    q::finish_restore(&mut *tx, restore_id, status, code, message.as_deref(), Some(&report)).await?;
    bq::unlock_app(&mut *tx, restore_id).await?;
    let committing = std::time::Instant::now();
    commit(tx).await?;
    // The turn to write passes on when `WriteConn` says.
    write_conn.turn = turn;
    tracing::debug!(restore_id, ms = committing.elapsed().as_millis() as u64, "committed");
    tracing::info!(restore_id, %migration_id, ?status, "restore ended");
    Ok(())
}

/// Ends a restore whose job died with its process: nothing was committed, the destination is as before.
pub(crate) async fn fail_interrupted(backend: &Backend, restore_id: &str) -> Result<(), ServiceError> {
    let mut tx = begin(&backend.db).await?;
    q::finish_restore(
        &mut *tx,
        restore_id,
        RestoreStatus::Failed,
        Some("INTERRUPTED"),
        Some("Interrupted: the server stopped while the restore ran. The destination is unchanged."),
        None,
    )
    .await?;
    bq::unlock_app(&mut *tx, restore_id).await?;
    commit(tx).await
}

fn failed(code: &'static str, e: impl std::fmt::Display) -> RunError {
    RunError::Failed { code, message: e.to_string() }
}

/// `conn` receives the write transaction's connection (acquired once it is this restore's turn to
/// write, so restores waiting for theirs hold none).
async fn run<'c>(
    backend: &Backend,
    org_id: &str,
    restore: &Restore,
    ctl: &JobControl,
    conn: &'c mut Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
) -> Result<RunOutcome<'c>, RunError> {
    let setup = load(backend, org_id, restore).await.map_err(|e| failed("ARCHIVE_INVALID", e.public_message()))?;
    let deny_custom = restore.consents.iter().any(|c| c == rules::DENY_CUSTOM_GROUP);
    let parts = &setup.manifest.parts;
    let total = parts.len() as u64 * 2;
    let mut done = 0u64;
    let progress = |done: u64| backend.backup.set_restore_progress(&restore.restore_id, (done * 100 / total.max(1)).min(99) as u8);
    let started = std::time::Instant::now();

    // 1. Attachment bytes into the app's blob store (content-addressed: a copy left by a failed
    //    restore is harmless and shared with the next one). The apps whose blobs may be reused
    //    unread: the caller administers both.
    let apps = [(setup.source_cloud.as_str(), restore.product), (restore.cloud_id.as_str(), restore.product)];
    for entry in parts {
        ctl.check()?;
        if entry.kind == ATTACHMENTS && restore.include_attachments {
            let bytes = fetch_part(&setup.storage, &restore.backup_id, entry).await?;
            let mut reader = PartReader::new(entry, bytes)?;
            // Each blob once per batch (attachments may share one; a record claiming another size
            // for the same SHA-256 is checked on its own). In batches, so that memory does not grow
            // with the part: an archive's part may list millions of attachments.
            let mut blobs = Vec::new();
            let mut seen = HashSet::new();
            while let Some(a) = reader.next::<AttachmentRecord>()? {
                if a.bytes_included && seen.insert((a.sha256.clone(), a.size)) {
                    blobs.push(a);
                    if blobs.len() == BLOB_BATCH {
                        copy_blobs(backend, &apps, &setup.storage, &blobs, ctl).await?;
                        blobs.clear();
                        seen.clear();
                    }
                }
            }
            copy_blobs(backend, &apps, &setup.storage, &blobs, ctl).await?;
        }
        done += 1;
        progress(done);
    }

    tracing::debug!(restore_id = %restore.restore_id, ms = started.elapsed().as_millis() as u64, "attachment bytes in place");

    // 2. Everything else in one write transaction, one restore at a time.
    let turn = tokio::select! {
        turn = backend.backup.restore_writes.clone().lock_owned() => turn,
        _ = ctl.token.cancelled() => return Err(ctl.check().expect_err("cancelled")),
    };
    tracing::debug!(restore_id = %restore.restore_id, ms = started.elapsed().as_millis() as u64, "turn to write");
    let mut planner = Planner::new(backend, org_id, restore, &setup).await?;
    // The transaction's own connection, set up for bulk writes (`WriteConn` sets it back).
    let conn = conn.insert(backend.db.acquire().await.map_err(StoreError::from)?);
    q::begin_bulk_writes(conn).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(StoreError::from)?;
    // The app marked changed once; the bulk tables' per-row marks off until the writes are done.
    let marks = bq::suspend_insert_marks(&mut tx, &restore.cloud_id, restore.product).await?;
    let written: Result<(), RunError> = async {
        if restore.consents.iter().any(|c| c == rules::CONSENT_SHARD) && setup.dest_app.shard != setup.manifest.shard {
            pq::set_app_shard(&mut *tx, &restore.cloud_id, restore.product, &setup.manifest.shard).await?;
        }
        let mapped_records = [PROJECTS, ISSUES, SPACES, PAGES].iter().filter_map(|k| setup.manifest.counts.get(*k)).sum();
        let mut writer = Writer { ids: IdMap::with_capacity(mapped_records), groups: HashMap::new(), users: HashMap::new() };
        let mut started = std::time::Instant::now();
        let mut part_written = |name: &str| {
            tracing::debug!(restore_id = %restore.restore_id, part = %name, ms = started.elapsed().as_millis() as u64, "part written");
            started = std::time::Instant::now();
            done += 1;
            progress(done);
            ctl.check()
        };
        // The parts of a kind follow each other in the manifest: the bulk kinds' are written as one
        // stream (`write_in_batches`), the others one part at a time.
        for run in parts.chunk_by(|a, b| a.kind == b.kind) {
            ctl.check()?;
            let kind = run[0].kind.as_str();
            if is_bulk_kind(kind) {
                let fetched = fetch_ahead(&setup.storage, &restore.backup_id, run);
                writer.bulk(&mut tx, restore, &mut planner, kind, fetched, &mut part_written).await?;
                continue;
            }
            for entry in run {
                let bytes = fetch_part(&setup.storage, &restore.backup_id, entry).await?;
                let reader = PartReader::new(entry, bytes)?;
                writer.part(&mut tx, org_id, restore, &mut planner, kind, reader, deny_custom).await?;
                part_written(&entry.name)?;
            }
        }
        ctl.check()
    }
    .await;
    written?;
    bq::resume_insert_marks(&mut tx, marks).await?;
    // Not committed here: the caller records the end in the same transaction, so the data and
    // "COMPLETE" become visible together (a kill in between cannot report a committed restore as
    // failed, nor leave one running).
    Ok((planner.plan, planner.missing_bytes, tx, turn))
}

/// A restore written but not committed: the plan as carried out, attachments without bytes, the
/// open transaction, and the turn to write (held until the commit).
type RunOutcome<'c> =
    (BTreeMap<String, PlanEntry>, u64, sqlx::Transaction<'c, sqlx::Sqlite>, tokio::sync::OwnedMutexGuard<()>);

/// A restore's write connection, once it has one, and after the commit its turn to write. Whichever
/// way the job ends, the connection goes back to the pool in the background once the transaction
/// has ended: the WAL checkpoint the commit skipped, then SQLite's defaults
/// (`store::restore::end_bulk_writes`); a connection that cannot be set back is closed rather than
/// pooled.
///
/// When the turn passes on: a restore waiting for it that starts writing before the checkpoint has
/// ended keeps SQLite from rewinding the WAL, which then grows by its writes too; restores queued
/// back to back would grow it by all of theirs. So the turn passes on at once (the next restore
/// writes while this checkpoint runs) only while the WAL file is at most `EARLY_HANDBACK_WAL_MAX`;
/// past that, after the checkpoint, and the next writer starts the WAL over. The restore itself
/// has already ended (COMPLETE is committed); what waits is the next one.
struct WriteConn {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// The database's WAL file (`None` for a database in memory, which has none).
    wal: Option<std::path::PathBuf>,
}

/// The WAL file size up to which a restore's turn to write passes on before its checkpoint: four
/// times what a rewind cuts the file back to. A medium site's restore writes ~100 MB, so two
/// queued restores follow each other without waiting and a third waits for the WAL to start over.
const EARLY_HANDBACK_WAL_MAX: u64 = 4 * crate::store::WAL_SIZE_LIMIT;

impl WriteConn {
    fn new(backend: &Backend) -> WriteConn {
        WriteConn { conn: None, turn: None, wal: crate::store::wal_file(&backend.db) }
    }
}

impl Drop for WriteConn {
    fn drop(&mut self) {
        let mut turn = self.turn.take();
        let wal_bytes = self.wal.as_ref().and_then(|wal| std::fs::metadata(wal).ok()).map_or(0, |m| m.len());
        let early = wal_bytes <= EARLY_HANDBACK_WAL_MAX;
        if early && turn.is_some() {
            tracing::debug!(wal_bytes, "the turn to write passes on before the checkpoint");
            drop(turn.take());
        }
        let (Some(mut conn), Ok(runtime)) = (self.conn.take(), tokio::runtime::Handle::try_current()) else { return };
        runtime.spawn(async move {
            let started = std::time::Instant::now();
            if let Err(e) = q::end_bulk_writes(&mut conn).await {
                tracing::warn!(error = %e, "a restore's write connection could not be set back; closing it");
                let _ = conn.close().await;
            }
            let checkpointed = started.elapsed();
            // The bulk-write page cache just freed, before the next restore's writes allocate theirs.
            crate::jobs::give_back_free_memory().await;
            tracing::debug!(
                checkpoint_ms = checkpointed.as_millis() as u64,
                trim_ms = (started.elapsed() - checkpointed).as_millis() as u64,
                wal_bytes,
                turn_held = turn.is_some(),
                "write connection set back"
            );
            drop(turn);
        });
    }
}

/// Blobs one restore checks or copies at once: each check is two file-system (or S3) round trips,
/// and a copy from S3 waits on the network.
const BLOBS_IN_FLIGHT: usize = 8;

/// Attachment records a restore holds at once in its blob pass (`copy_blobs` takes them in turn).
const BLOB_BATCH: usize = 4096;

/// Checks, and copies where needed (`copy_blob`), `BLOBS_IN_FLIGHT` blobs at a time. After a
/// failure or a cancel no copy starts, and those under way finish before it returns: none is left
/// half-written.
async fn copy_blobs(backend: &Backend, apps: &[(&str, Product)], storage: &Storage, blobs: &[AttachmentRecord], ctl: &JobControl) -> Result<(), RunError> {
    use futures_util::StreamExt;
    let named: Vec<&str> = blobs.iter().map(|a| a.sha256.as_str()).collect();
    let held = crate::store::content::blobs_held_by_apps(&backend.db, apps, &named).await?;
    // A loop rather than stream combinators: their closures make the job's future lose `Send`.
    let mut pending = blobs.iter();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut first_error = None;
    loop {
        while first_error.is_none() && in_flight.len() < BLOBS_IN_FLIGHT {
            if let Err(e) = ctl.check() {
                first_error = Some(e);
                break;
            }
            let Some(a) = pending.next() else { break };
            in_flight.push(copy_blob(backend, storage, a, held.contains(&(a.sha256.clone(), a.size))));
        }
        match in_flight.next().await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => break,
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// One blob of the archive into the app's blob store. The archive must hold it, at its size, whatever
/// the store has (a damaged backup is refused). The bytes are fetched and hashed — stored only if
/// they are the ones named — unless the store has the blob and the backed-up or the destination
/// app already holds it, at that size (`held`): the store is shared by every app of every
/// organization, and an archive (in storage an organization writes to) naming another app's
/// SHA-256 must not get its bytes.
async fn copy_blob(backend: &Backend, storage: &Storage, a: &AttachmentRecord, held: bool) -> Result<(), RunError> {
    if !crate::blobs::is_sha256_hex(&a.sha256) {
        return Err(failed("ARCHIVE_INVALID", format!("attachment {} has no valid SHA-256", a.id)));
    }
    match storage.size_of(&crate::archive::blob_path(&a.sha256)).await.map_err(|e| failed("STORAGE_ERROR", e))? {
        None => return Err(failed("BLOB_MISSING", format!("attachment blob {} is missing from the backup", a.sha256))),
        Some(size) if size != a.size => {
            return Err(failed("BLOB_CORRUPT", format!("attachment blob {} has {size} bytes instead of {}", a.sha256, a.size)))
        }
        Some(_) => {}
    }
    if held && backend.blobs.exists(&a.sha256).await.map_err(|e| failed("BLOB_STORE_ERROR", e))? {
        return Ok(());
    }
    let (_, stream) = storage.get_stream(&crate::archive::blob_path(&a.sha256)).await.map_err(|e| match e {
        crate::storage::StorageError::NotFound(_) => failed("BLOB_MISSING", format!("attachment blob {} is missing from the backup", a.sha256)),
        other => failed("STORAGE_ERROR", other),
    })?;
    backend.blobs.put_stream_expecting(stream, a.size, &a.sha256).await.map_err(|e| match e {
        crate::blobs::BlobError::Mismatch { .. } | crate::blobs::BlobError::TooLarge { .. } => {
            failed("BLOB_CORRUPT", format!("attachment blob {} does not match its checksum", a.sha256))
        }
        other => failed("BLOB_CORRUPT", format!("attachment blob {}: {other}", a.sha256)),
    })?;
    Ok(())
}

/// Archive id → new id, for projects, issues, spaces and pages: hundreds of thousands of entries in
/// a large restore. Ids in canonical UUID form (all that Lifeboat writes) are kept as 16-byte
/// numbers rather than strings — about a fifth of the memory; any other archive id as a string.
#[derive(Default)]
struct IdMap {
    canonical: HashMap<u128, u128>,
    other: HashMap<String, u128>,
}

/// The UUID of an id in canonical form (lowercase, hyphenated): the only form that maps one-to-one
/// to its number, so two different archive ids never share an entry.
fn canonical_uuid(s: &str) -> Option<u128> {
    if s.len() != 36 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    uuid::Uuid::try_parse(s).ok().map(|u| u.as_u128())
}

impl IdMap {
    /// Room for `records` canonical ids from the start (the manifest's counts of the kinds mapped,
    /// which validation held to the parts' sizes; capped), instead of growing by doubling through
    /// ~18 tables and rehashing into each. Measured at large (PERFORMANCE.md, eighth stop): the
    /// peak RSS did not change; restores were faster in four pairs of four, by more than the
    /// rehashing can explain.
    fn with_capacity(records: u64) -> IdMap {
        const MOST: u64 = 4 << 20;
        IdMap { canonical: HashMap::with_capacity(records.min(MOST) as usize), other: HashMap::new() }
    }

    fn insert(&mut self, archive_id: &str, new_id: &str) -> Result<(), RunError> {
        let new = canonical_uuid(new_id).ok_or_else(|| failed("INTERNAL_ERROR", format!("new id {new_id} is not a UUID")))?;
        match canonical_uuid(archive_id) {
            Some(key) => self.canonical.insert(key, new),
            None => self.other.insert(archive_id.to_owned(), new),
        };
        Ok(())
    }

    /// The new id of a record an archive record refers to (written before it).
    fn mapped(&self, archive_id: &str) -> Result<String, RunError> {
        self.get(archive_id).ok_or_else(|| failed("ARCHIVE_INVALID", format!("record refers to unknown id {archive_id}")))
    }

    fn get(&self, archive_id: &str) -> Option<String> {
        let new = match canonical_uuid(archive_id) {
            Some(key) => self.canonical.get(&key),
            None => self.other.get(archive_id),
        }?;
        Some(uuid::Uuid::from_u128(*new).hyphenated().to_string())
    }
}

/// Inserts records with new ids, mapping the archive's ids as it goes.
struct Writer {
    /// Archive id → new id, for projects, issues, spaces and pages.
    ids: IdMap,
    /// Group name → group id in the destination's directory.
    groups: HashMap<String, String>,
    /// Email → account id.
    users: HashMap<String, String>,
}

impl Writer {
    async fn user_id(&mut self, conn: &mut SqliteConnection, org_id: &str, email: &str) -> Result<String, RunError> {
        if let Some(id) = self.users.get(email) {
            return Ok(id.clone());
        }
        let name = super::platform::display_name_from_email(email);
        let u = pq::ensure_user(conn, org_id, email, &name).await?;
        self.users.insert(email.to_owned(), u.account_id.clone());
        Ok(u.account_id)
    }

    /// Writes one part of a kind that is not written in bulk (projects, spaces and the directory's
    /// kinds), record by record; the bulk kinds go through `bulk`.
    #[allow(clippy::too_many_arguments)]
    async fn part(
        &mut self,
        conn: &mut SqliteConnection,
        org_id: &str,
        restore: &Restore,
        p: &mut Planner,
        kind: &str,
        mut r: PartReader,
        deny_custom: bool,
    ) -> Result<(), RunError> {
        if is_directory_kind(kind) && !p.include_users {
            return Ok(());
        }
        let cloud = restore.cloud_id.as_str();
        match kind {
            PROJECTS => {
                while let Some(rec) = r.next::<ProjectRecord>()? {
                    let d = p.project(&rec);
                    if let Decision::Create = d {
                        let id = q::insert_project(conn, cloud, &rec).await?;
                        self.ids.insert(&rec.id, &id)?;
                    }
                    p.record(kind, Some(&rec.key), &d);
                }
            }
            SPACES => {
                while let Some(rec) = r.next::<SpaceRecord>()? {
                    let d = p.space(&rec);
                    if let Decision::Create = d {
                        let owner = match (&rec.owner_email, rec.space_type.as_str()) {
                            (Some(email), "personal") => Some(self.user_id(conn, org_id, email).await?),
                            _ => None,
                        };
                        let id = q::insert_space(conn, cloud, &rec, owner.as_deref()).await?;
                        self.ids.insert(&rec.id, &id)?;
                    }
                    p.record(kind, Some(&rec.key), &d);
                }
            }
            USERS => {
                while let Some(rec) = r.next::<UserRecord>()? {
                    let d = p.user(&rec);
                    let u = pq::ensure_user(conn, org_id, &rec.email, &rec.display_name).await?;
                    self.users.insert(rec.email.clone(), u.account_id);
                    p.record(kind, None, &d);
                }
            }
            GROUPS => {
                while let Some(rec) = r.next::<GroupRecord>()? {
                    let d = p.group(&rec, deny_custom);
                    if !matches!(d, Decision::Skip(_)) {
                        let g = pq::ensure_group(conn, org_id, &rec.name, rec.custom).await?;
                        self.groups.insert(rec.name.clone(), g.group_id);
                    }
                    p.record(kind, Some(&rec.name), &d);
                }
            }
            MEMBERSHIPS => {
                while let Some(rec) = r.next::<MembershipRecord>()? {
                    let d = p.in_group(&rec.group);
                    if let (Decision::Create, Some(group)) = (&d, self.groups.get(&rec.group).cloned()) {
                        let account = self.user_id(conn, org_id, &rec.email).await?;
                        pq::add_member(&mut *conn, &group, &account).await?;
                    }
                    p.record(kind, None, &d);
                }
            }
            ACCESS => {
                while let Some(rec) = r.next::<AccessRecord>()? {
                    let d = p.in_group(&rec.group);
                    if let (Decision::Create, Some(group)) = (&d, self.groups.get(&rec.group).cloned()) {
                        let role = Role::parse(&rec.role).ok_or_else(|| failed("ARCHIVE_INVALID", format!("unknown role {}", rec.role)))?;
                        // Stored, but granting nothing until an admin approves it.
                        pq::request_grant_review(conn, &group, cloud, restore.product, role).await?;
                    }
                    p.record(kind, Some(&rec.group), &d);
                }
            }
            other => return Err(failed("INTERNAL_ERROR", format!("{other} is written in bulk, not part by part"))),
        }
        Ok(())
    }

    /// Writes a run of parts of one bulk kind (`is_bulk_kind`: `parts` fetches them in turn) in
    /// multi-row statements; `part_written` is called as each part's last statement is written.
    async fn bulk(
        &mut self,
        conn: &mut SqliteConnection,
        restore: &Restore,
        p: &mut Planner,
        kind: &str,
        parts: FetchedParts,
        part_written: &mut (dyn FnMut(&str) -> Result<(), RunError> + Send),
    ) -> Result<(), RunError> {
        let app = (restore.cloud_id.as_str(), restore.product);
        match kind {
            ISSUES => {
                // Ids are made here, so children can map to them before their statement is written
                // (it always precedes theirs).
                let ids = &mut self.ids;
                let map = |rec: IssueRecord| {
                    let d = p.child(&rec.id, &[Some(&rec.project_id)]);
                    p.record(kind, None, &d);
                    if !matches!(d, Decision::Create) {
                        return Ok(None);
                    }
                    let project = ids.mapped(&rec.project_id)?;
                    let id = crate::store::new_id();
                    ids.insert(&rec.id, &id)?;
                    Ok(Some((id, project, rec)))
                };
                write_in_batches(conn, parts, app, map, part_written).await
            }
            PAGES => {
                let ids = &mut self.ids;
                let map = |rec: PageRecord| {
                    let d = p.child(&rec.id, &[Some(&rec.space_id), rec.parent_id.as_deref()]);
                    p.record(kind, None, &d);
                    if !matches!(d, Decision::Create) {
                        return Ok(None);
                    }
                    let space = ids.mapped(&rec.space_id)?;
                    let parent = rec.parent_id.as_deref().map(|pid| ids.mapped(pid)).transpose()?;
                    let id = crate::store::new_id();
                    ids.insert(&rec.id, &id)?;
                    Ok(Some((id, space, parent, rec)))
                };
                write_in_batches(conn, parts, app, map, part_written).await
            }
            ISSUE_COMMENTS | PAGE_COMMENTS => {
                let ids = &self.ids;
                let map = |rec: CommentRecord| {
                    let d = p.comment(&rec.parent_id);
                    p.record(kind, None, &d);
                    if !matches!(d, Decision::Create) {
                        return Ok(None);
                    }
                    Ok(Some((ids.mapped(&rec.parent_id)?, rec)))
                };
                write_in_batches(conn, parts, app, map, part_written).await
            }
            ATTACHMENTS => {
                let ids = &self.ids;
                let map = |rec: AttachmentRecord| {
                    let d = p.attachment(&rec);
                    p.record(kind, Some(&rec.filename), &d);
                    if !matches!(d, Decision::Create) {
                        return Ok(None);
                    }
                    Ok(Some((ids.mapped(&rec.owner_id)?, rec)))
                };
                write_in_batches(conn, parts, app, map, part_written).await
            }
            other => Err(failed("INTERNAL_ERROR", format!("{other} is not written in bulk"))),
        }
    }
}

/// The kinds a restore writes in multi-row statements (`Writer::bulk`): the bulk of its rows.
fn is_bulk_kind(kind: &str) -> bool {
    matches!(kind, ISSUES | PAGES | ISSUE_COMMENTS | PAGE_COMMENTS | ATTACHMENTS)
}

/// The rows a restore writes in multi-row statements, and how each binds into its statement; `app`
/// is the destination app (cloud id, product).
trait BulkRow: Sized {
    fn statement(app: (&str, Product)) -> q::BulkInsert;
    fn bind(self, app: (&str, Product), statement: &mut q::BulkInsert) -> Result<(), StoreError>;
}

/// `(new id, destination project id, record)`.
impl BulkRow for (String, String, IssueRecord) {
    fn statement(_: (&str, Product)) -> q::BulkInsert {
        q::BulkInsert::issues()
    }
    fn bind(self, _: (&str, Product), statement: &mut q::BulkInsert) -> Result<(), StoreError> {
        statement.issue(self.0, self.1, self.2)
    }
}

/// `(new id, destination space id, destination parent id, record)`.
impl BulkRow for (String, String, Option<String>, PageRecord) {
    fn statement(_: (&str, Product)) -> q::BulkInsert {
        q::BulkInsert::pages()
    }
    fn bind(self, _: (&str, Product), statement: &mut q::BulkInsert) -> Result<(), StoreError> {
        statement.page(self.0, self.1, self.2, self.3)
    }
}

/// `(destination issue or page id, record)`.
impl BulkRow for (String, CommentRecord) {
    fn statement((_, product): (&str, Product)) -> q::BulkInsert {
        q::BulkInsert::comments(product)
    }
    fn bind(self, _: (&str, Product), statement: &mut q::BulkInsert) -> Result<(), StoreError> {
        statement.comment(self.0, self.1)
    }
}

/// `(destination issue or page id, record)`.
impl BulkRow for (String, AttachmentRecord) {
    fn statement(_: (&str, Product)) -> q::BulkInsert {
        q::BulkInsert::attachments()
    }
    fn bind(self, app: (&str, Product), statement: &mut q::BulkInsert) -> Result<(), StoreError> {
        statement.attachment(app, self.0, self.1)
    }
}

/// A run of parts of one kind, fetched and verified one part ahead of their decoder (`fetch_ahead`),
/// how many there are, and the task fetching them.
struct FetchedParts {
    parts: tokio::sync::mpsc::Receiver<Result<PartReader, ArchiveError>>,
    expected: usize,
    fetcher: tokio::task::AbortHandle,
}

/// Stops a run's fetcher when its writer is done, whichever way: after a failure or a cancel, no
/// part is still being downloaded and hashed for nobody.
struct StopOnDrop(tokio::task::AbortHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches and verifies (size, SHA-256) a run of parts in order on a task of its own, one part
/// ahead of the one being decoded: the decoder goes from one part into the next without waiting
/// for its bytes, and at most two parts are in memory (the one being decoded and the next). The
/// first failure ends the run with its error.
fn fetch_ahead(storage: &Storage, backup_id: &str, entries: &[crate::archive::PartEntry]) -> FetchedParts {
    let (sender, parts) = tokio::sync::mpsc::channel(1);
    let expected = entries.len();
    let (storage, backup_id, entries) = (storage.clone(), backup_id.to_owned(), entries.to_vec());
    let fetcher = tokio::spawn(async move {
        for entry in &entries {
            // The slot first, then the bytes: a part is fetched only once the decoder has taken
            // the one before.
            let Ok(slot) = sender.reserve().await else { return };
            let part = fetch_part(&storage, &backup_id, entry).await.and_then(|bytes| PartReader::new(entry, bytes));
            let failed = part.is_err();
            slot.send(part);
            if failed {
                return;
            }
        }
    });
    FetchedParts { parts, expected, fetcher: fetcher.abort_handle() }
}

/// What the decoder hands the writer: a batch of records, or the end of a part (its name).
enum Decoded<R> {
    Batch(Vec<R>),
    PartEnd(String),
}

/// Batches of a run's records decoded ahead of the writer.
const BATCHES_DECODED_AHEAD: usize = 4;

/// A batch ends at `q::BATCH_ROWS` records or at this many bytes of them, whichever comes first:
/// a record may be up to `archive::RECORD_MAX`, and about seven batches are in memory at once (those
/// decoded ahead, the one being decoded, bound and written). Realistic records (~1.2 KB) reach
/// the row count first.
const BATCH_BYTES: u64 = 4 * 1024 * 1024;

/// Decodes a run of parts' records on a blocking thread, in batches (`q::BATCH_ROWS`,
/// `BATCH_BYTES`; a batch never spans two parts, and each part's end is announced after its last
/// batch), up to `BATCHES_DECODED_AHEAD` batches ahead of the receiver; an error ends the stream.
/// Once the receiver is dropped (the write failed), decoding stops at the next batch. The thread's
/// handle tells a stream that ended because the thread panicked from one that ended with the run.
fn decode_ahead<R: serde::de::DeserializeOwned + Send + 'static>(
    mut parts: tokio::sync::mpsc::Receiver<Result<PartReader, ArchiveError>>,
) -> (tokio::sync::mpsc::Receiver<Result<Decoded<R>, ArchiveError>>, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = tokio::sync::mpsc::channel(BATCHES_DECODED_AHEAD);
    let decoder = tokio::task::spawn_blocking(move || {
        while !sender.is_closed() {
            let Some(part) = parts.blocking_recv() else { break };
            let mut r = match part {
                Ok(r) => r,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            loop {
                let mut batch = Vec::with_capacity(q::BATCH_ROWS);
                let start = r.raw_bytes();
                let more = loop {
                    match r.next::<R>() {
                        Ok(Some(rec)) => {
                            batch.push(rec);
                            if batch.len() == q::BATCH_ROWS || r.raw_bytes() - start >= BATCH_BYTES {
                                break Ok(true);
                            }
                        }
                        Ok(None) => break Ok(false),
                        Err(e) => break Err(e),
                    }
                };
                let more = match more {
                    Ok(more) => more,
                    Err(e) => {
                        let _ = sender.blocking_send(Err(e));
                        return;
                    }
                };
                if !batch.is_empty() && sender.blocking_send(Ok(Decoded::Batch(batch))).is_err() {
                    return;
                }
                if !more {
                    break;
                }
            }
            if sender.blocking_send(Ok(Decoded::PartEnd(r.name().to_owned()))).is_err() {
                return;
            }
        }
    });
    (receiver, decoder)
}

/// What the writer does next: write a statement, or note that a part has been written.
enum Step {
    Statement(q::BulkInsert),
    PartEnd(String),
}

/// Writes a run of parts' bulk rows in multi-row statements (`parts`: as `fetch_ahead` hands
/// them). Four tasks share the work, so that the database thread
/// is not kept waiting at each part's start: a task fetches and verifies the next part
/// (`fetch_ahead`); a blocking thread decompresses and parses the records ahead (`decode_ahead`),
/// from one part straight into the next; this task plans, maps and binds the next statement while
/// the database thread runs the previous one. (With decoding on this task and each statement bound
/// only once the previous one had returned, the database thread waited for them about a third of
/// the time.) `map` turns a record into its row (`None`: not written); `part_written` is called
/// once a part's last statement has been written.
async fn write_in_batches<R: serde::de::DeserializeOwned + Send + 'static, Row: BulkRow>(
    conn: &mut SqliteConnection,
    parts: FetchedParts,
    app: (&str, Product),
    mut map: impl FnMut(R) -> Result<Option<Row>, RunError>,
    part_written: &mut (dyn FnMut(&str) -> Result<(), RunError> + Send),
) -> Result<(), RunError> {
    let expected_parts = parts.expected;
    let _stop_fetching = StopOnDrop(parts.fetcher);
    let (mut decoded, decoder) = decode_ahead::<R>(parts.parts);
    // The next step; `None` once the run has no more records.
    let mut next_step = async |decoded: &mut tokio::sync::mpsc::Receiver<Result<Decoded<R>, ArchiveError>>| {
        let records = match decoded.recv().await {
            None => return Ok(None),
            Some(Ok(Decoded::PartEnd(name))) => return Ok(Some(Step::PartEnd(name))),
            Some(Ok(Decoded::Batch(records))) => records,
            Some(Err(e)) => return Err(e.into()),
        };
        let mut statement = Row::statement(app);
        for rec in records {
            if let Some(row) = map(rec)? {
                row.bind(app, &mut statement)?;
            }
        }
        Ok::<_, RunError>(Some(Step::Statement(statement)))
    };
    let mut parts_written = 0;
    let mut step = next_step(&mut decoded).await?;
    while let Some(current) = step {
        step = match current {
            Step::Statement(statement) => {
                // `join` polls the write first: its statement is on the database thread before the next is bound.
                let (written, next) = futures_util::future::join(statement.execute(&mut *conn), next_step(&mut decoded)).await;
                written?;
                next?
            }
            Step::PartEnd(name) => {
                parts_written += 1;
                part_written(&name)?;
                next_step(&mut decoded).await?
            }
        };
    }
    decoder.await.map_err(|e| failed("INTERNAL_ERROR", format!("decoding a part: {e}")))?;
    // Every part of the run, or the error that stopped it: a run that ended short would otherwise
    // look complete.
    if parts_written != expected_parts {
        return Err(failed("INTERNAL_ERROR", format!("{parts_written} of {expected_parts} parts were read")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_map_keeps_distinct_archive_ids_apart() {
        let mut ids = IdMap::default();
        let canonical = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let (new_a, new_b, new_c) = (crate::store::new_id(), crate::store::new_id(), crate::store::new_id());
        ids.insert(canonical, &new_a).unwrap();
        // The same UUID spelled otherwise is another archive id, not the same entry.
        ids.insert(&canonical.to_uppercase(), &new_b).unwrap();
        ids.insert("PROJ-7", &new_c).unwrap();
        assert_eq!(ids.get(canonical).as_deref(), Some(new_a.as_str()));
        assert_eq!(ids.get(&canonical.to_uppercase()).as_deref(), Some(new_b.as_str()));
        assert_eq!(ids.get("PROJ-7").as_deref(), Some(new_c.as_str()));
        assert_eq!(ids.get("0190a1b2c3d47e5f8a9b0c1d2e3f4a5b"), None, "the simple form is not the hyphenated one");
        assert_eq!(ids.get("unknown"), None);
        assert!(ids.insert("x", "not-a-uuid").is_err(), "new ids are always UUIDs");
    }

    /// A part of the given NDJSON lines, as a verified reader.
    fn part_of(name: &str, lines: &[String]) -> PartReader {
        use sha2::Digest;
        let raw: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let compressed = zstd::encode_all(raw.as_bytes(), 1).unwrap();
        let entry = crate::archive::PartEntry {
            name: name.into(),
            kind: PAGES.into(),
            records: lines.len() as u64,
            raw_size: raw.len() as u64,
            size: compressed.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(&compressed)),
        };
        PartReader::new(&entry, bytes::Bytes::from(compressed)).unwrap()
    }

    /// A run of parts as `fetch_ahead` would hand them.
    fn run_of(parts: Vec<Result<PartReader, ArchiveError>>) -> tokio::sync::mpsc::Receiver<Result<PartReader, ArchiveError>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(parts.len().max(1));
        for part in parts {
            sender.try_send(part).unwrap();
        }
        receiver
    }

    /// The decoded stream as batch sizes, part ends (`end:<name>`) and errors (`error`), checking
    /// that the records (`{"n": …}`) arrive once each, in order across parts.
    async fn outline(parts: Vec<Result<PartReader, ArchiveError>>) -> Vec<String> {
        let (mut decoded, decoder) = decode_ahead::<serde_json::Value>(run_of(parts));
        let mut outline = Vec::new();
        let mut n = 0;
        while let Some(step) = decoded.recv().await {
            match step {
                Ok(Decoded::Batch(batch)) => {
                    for rec in &batch {
                        assert_eq!(rec["n"], n);
                        n += 1;
                    }
                    outline.push(batch.len().to_string());
                }
                Ok(Decoded::PartEnd(name)) => outline.push(format!("end:{name}")),
                Err(e) => outline.push(format!("error:{}", e.code())),
            }
        }
        decoder.await.unwrap();
        outline
    }

    fn records(from: usize, to: usize) -> Vec<String> {
        (from..to).map(|i| format!(r#"{{"n":{i},"body":"small"}}"#)).collect()
    }

    /// Batches end at `q::BATCH_ROWS` records or at `BATCH_BYTES`, and every record arrives once,
    /// in order.
    #[tokio::test]
    async fn records_are_decoded_ahead_in_batches_bounded_by_rows_and_bytes() {
        let big = "b".repeat(1536 * 1024);
        let mut lines: Vec<String> = (0..7).map(|i| format!(r#"{{"n":{i},"body":"{big}"}}"#)).collect();
        lines.extend(records(7, 1007));
        let outline = outline(vec![Ok(part_of("pages-000001.ndjson.zst", &lines))]).await;
        // Three 1.5 MiB records pass 4 MiB; the seventh batch's rows start with the last big one.
        let rows = q::BATCH_ROWS.to_string();
        assert_eq!(outline, ["3", "3", rows.as_str(), rows.as_str(), "201", "end:pages-000001.ndjson.zst"]);
    }

    /// A run of parts is one stream: each part's end follows its last batch, no batch spans two
    /// parts, and the next part's records follow at once.
    #[tokio::test]
    async fn a_run_of_parts_is_decoded_as_one_stream_with_each_part_end_marked() {
        let parts = vec![
            Ok(part_of("pages-000001.ndjson.zst", &records(0, 450))),
            Ok(part_of("pages-000002.ndjson.zst", &records(450, 460))),
            Ok(part_of("pages-000003.ndjson.zst", &[])),
        ];
        let rows = q::BATCH_ROWS.to_string();
        let expected = [rows.as_str(), "50", "end:pages-000001.ndjson.zst", "10", "end:pages-000002.ndjson.zst", "end:pages-000003.ndjson.zst"];
        assert_eq!(outline(parts).await, expected);
    }

    /// A record that does not decode, or a part that could not be fetched, ends the stream with its
    /// error (after the batches before it).
    #[tokio::test]
    async fn a_bad_record_or_a_bad_part_ends_the_decoded_stream_with_its_error() {
        let mut lines = records(0, 500);
        lines.push("{not json".into());
        let outline_of_bad_record = outline(vec![Ok(part_of("pages-000001.ndjson.zst", &lines)), Ok(part_of("pages-000002.ndjson.zst", &records(500, 510)))]).await;
        assert_eq!(outline_of_bad_record, [q::BATCH_ROWS.to_string().as_str(), "error:PART_CORRUPT"]);

        let missing = ArchiveError::PartChecksum("pages-000002.ndjson.zst".into());
        let outline_of_bad_part = outline(vec![Ok(part_of("pages-000001.ndjson.zst", &records(0, 10))), Err(missing), Ok(part_of("pages-000003.ndjson.zst", &records(10, 20)))]).await;
        assert_eq!(outline_of_bad_part, ["10", "end:pages-000001.ndjson.zst", "error:PART_CHECKSUM_MISMATCH"]);
    }
}
