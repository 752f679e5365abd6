//! Queries for storages, policies, backups, exports, imports, the per-app operation lock and the
//! blob index. Times are Unix milliseconds (see migration 0004).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::Row;

use super::{parse_col, StoreError};
use crate::storage::Place;
use crate::model::{
    Backup, BackupOrigin, BackupSize, BackupStatus, DayOfWeek, Export, Import, Interval, Policy, PolicyStatus, Product,
    Progress, Schedule, Storage, StorageType, TransferStatus,
};

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Now, at the precision stored (milliseconds), so an object returned at creation equals the one read back.
pub fn now_ms() -> DateTime<Utc> {
    from_ms(ms(Utc::now()))
}

pub fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn opt_ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

fn product(r: &SqliteRow) -> Result<Product, StoreError> {
    parse_col(Product::parse(r.get("product")), "product")
}

// ---- storages ----

/// A storage row, credentials still sealed.
#[derive(Clone, Debug)]
pub struct StorageRow {
    pub storage: Storage,
    pub org_id: String,
    pub sealed_credentials: Option<Vec<u8>>,
    /// Checked against the rule that each storage has a place of its own when it was created
    /// (migrations 0011 and 0012; always, since).
    pub place_checked: bool,
}

fn storage_row(r: SqliteRow) -> Result<StorageRow, StoreError> {
    let sealed: Option<Vec<u8>> = r.get("sealed_credentials");
    Ok(StorageRow {
        org_id: r.get("org_id"),
        storage: Storage {
            storage_id: r.get("storage_id"),
            storage_type: parse_col(StorageType::parse(r.get("storage_type")), "storages.storage_type")?,
            storage_name: r.get("storage_name"),
            storage_region: r.get("storage_region"),
            storage_prefix: r.get("storage_prefix"),
            cloud_id: r.get("cloud_id"),
            endpoint: r.get("endpoint"),
            path: r.get("path"),
            role_identifier: r.get("role_identifier"),
            principal_tag: r.get("principal_tag"),
            has_credentials: sealed.is_some(),
            created_at: from_ms(r.get("created_at")),
            created_by: r.get("created_by"),
        },
        sealed_credentials: sealed,
        place_checked: r.get("place_checked"),
    })
}

pub async fn insert_storage<'e>(ex: impl SqliteExecutor<'e>, row: &StorageRow) -> Result<(), StoreError> {
    let s = &row.storage;
    sqlx::query(
        "INSERT INTO storages (storage_id, org_id, cloud_id, storage_type, storage_name, storage_region,
             storage_prefix, endpoint, path, role_identifier, principal_tag, sealed_credentials, created_at, created_by,
             place_checked)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.storage_id)
    .bind(&row.org_id)
    .bind(&s.cloud_id)
    .bind(s.storage_type.as_str())
    .bind(&s.storage_name)
    .bind(&s.storage_region)
    .bind(&s.storage_prefix)
    .bind(&s.endpoint)
    .bind(&s.path)
    .bind(&s.role_identifier)
    .bind(&s.principal_tag)
    .bind(&row.sealed_credentials)
    .bind(ms(s.created_at))
    .bind(&s.created_by)
    .bind(row.place_checked)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_storage<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    storage_id: &str,
) -> Result<Option<StorageRow>, StoreError> {
    let row = sqlx::query("SELECT * FROM storages WHERE org_id = ? AND storage_id = ?")
        .bind(org_id)
        .bind(storage_id)
        .fetch_optional(ex)
        .await?;
    row.map(storage_row).transpose()
}

/// Where a storage keeps its objects (`Place`): a filesystem storage's path joined with its prefix;
/// an S3 storage's endpoint, bucket and prefix. `None` for a filesystem row without a path (the
/// create requires one): it names no place, and an empty path would seem to hold every other.
pub fn place(s: &Storage) -> Option<Place> {
    match (&s.storage_type, &s.path) {
        (StorageType::Filesystem, Some(path)) => Some(Place::Directory(std::path::Path::new(path).join(&s.storage_prefix))),
        (StorageType::Filesystem, None) => None,
        (StorageType::Aws, _) => Some(Place::Bucket { endpoint: s.endpoint.clone(), bucket: s.storage_name.clone(), prefix: s.storage_prefix.clone() }),
    }
}

/// The places of every storage, of every organization; with `before` (a storage's creation time in
/// ms and id), only those created before that storage.
pub async fn storage_places<'e>(ex: impl SqliteExecutor<'e>, before: Option<(i64, &str)>) -> Result<Vec<Place>, StoreError> {
    let rows = sqlx::query("SELECT * FROM storages WHERE ?1 IS NULL OR created_at < ?1 OR (created_at = ?1 AND storage_id < ?2)")
        .bind(before.map(|(at, _)| at))
        .bind(before.map(|(_, id)| id))
        .fetch_all(ex)
        .await?;
    let mut places = Vec::with_capacity(rows.len());
    for r in rows {
        places.extend(place(&storage_row(r)?.storage));
    }
    Ok(places)
}

/// Storages of an org; with `cloud_id`, those of that site (or of no site); with `product`, those a
/// policy of that product uses or that no policy uses yet.
pub async fn list_storages<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    cloud_id: Option<&str>,
    product: Option<Product>,
) -> Result<Vec<Storage>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.* FROM storages s
          WHERE s.org_id = ?1
            AND (?2 IS NULL OR s.cloud_id IS NULL OR s.cloud_id = ?2)
            AND (?3 IS NULL OR EXISTS (SELECT 1 FROM policies p WHERE p.storage_id = s.storage_id AND p.product = ?3)
                 OR NOT EXISTS (SELECT 1 FROM policies p WHERE p.storage_id = s.storage_id))
          ORDER BY s.created_at, s.storage_id",
    )
    .bind(org_id)
    .bind(cloud_id)
    .bind(product.map(Product::as_str))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|r| storage_row(r).map(|s| s.storage)).collect()
}

// ---- policies ----

const POLICY_COLUMNS: &str = "policy_id, org_id, cloud_id, product, storage_id, include_attachments,
    include_users_and_groups, include_personal_spaces, schedule_interval, schedule_time, schedule_day, status,
    next_run_at, retry_at, retry_attempt, created_at, created_by, last_backup_time";

#[derive(Clone, Debug)]
pub struct PolicyRow {
    pub policy: Policy,
    pub org_id: String,
    pub retry_at: Option<DateTime<Utc>>,
    pub retry_attempt: i64,
}

fn policy_row(r: SqliteRow) -> Result<PolicyRow, StoreError> {
    let product = product(&r)?;
    let interval: Option<String> = r.get("schedule_interval");
    let schedule = match interval.as_deref().and_then(Interval::parse) {
        Some(interval) => Some(Schedule {
            interval,
            time_of_day: r.get::<Option<String>, _>("schedule_time").unwrap_or_else(|| "00:00".into()),
            day_of_week: r.get::<Option<String>, _>("schedule_day").as_deref().and_then(DayOfWeek::parse),
        }),
        None => None,
    };
    let personal: bool = r.get("include_personal_spaces");
    Ok(PolicyRow {
        org_id: r.get("org_id"),
        retry_at: opt_ms(r.get("retry_at")),
        retry_attempt: r.get("retry_attempt"),
        policy: Policy {
            policy_id: r.get("policy_id"),
            cloud_id: r.get("cloud_id"),
            product,
            storage_id: r.get("storage_id"),
            include_attachments: r.get("include_attachments"),
            include_users_and_groups: r.get("include_users_and_groups"),
            include_personal_spaces: (product == Product::Confluence).then_some(personal),
            schedule,
            status: parse_col(PolicyStatus::parse(r.get("status")), "policies.status")?,
            next_run_at: opt_ms(r.get("next_run_at")),
            created_at: from_ms(r.get("created_at")),
            created_by: r.get("created_by"),
            last_backup_time: opt_ms(r.get("last_backup_time")),
        },
    })
}

/// Inserts or replaces every field of a policy (create and PUT both go through here).
pub async fn save_policy<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, p: &Policy) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO policies (policy_id, org_id, cloud_id, product, storage_id, include_attachments,
             include_users_and_groups, include_personal_spaces, schedule_interval, schedule_time, schedule_day,
             status, next_run_at, created_at, created_by, last_backup_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (policy_id) DO UPDATE SET storage_id = excluded.storage_id,
             include_attachments = excluded.include_attachments,
             include_users_and_groups = excluded.include_users_and_groups,
             include_personal_spaces = excluded.include_personal_spaces,
             schedule_interval = excluded.schedule_interval, schedule_time = excluded.schedule_time,
             schedule_day = excluded.schedule_day, status = excluded.status, next_run_at = excluded.next_run_at",
    )
    .bind(&p.policy_id)
    .bind(org_id)
    .bind(&p.cloud_id)
    .bind(p.product.as_str())
    .bind(&p.storage_id)
    .bind(p.include_attachments)
    .bind(p.include_users_and_groups)
    .bind(p.include_personal_spaces.unwrap_or(false))
    .bind(p.schedule.as_ref().map(|s| s.interval.as_str()))
    .bind(p.schedule.as_ref().map(|s| s.time_of_day.clone()))
    .bind(p.schedule.as_ref().and_then(|s| s.day_of_week).map(DayOfWeek::as_str))
    .bind(p.status.as_str())
    .bind(p.next_run_at.map(ms))
    .bind(ms(p.created_at))
    .bind(&p.created_by)
    .bind(p.last_backup_time.map(ms))
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_policy<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    policy_id: &str,
) -> Result<Option<PolicyRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM policies WHERE org_id = ? AND policy_id = ?"))
        .bind(org_id)
        .bind(policy_id)
        .fetch_optional(ex)
        .await?;
    row.map(policy_row).transpose()
}

pub async fn list_policies<'e>(ex: impl SqliteExecutor<'e>, org_id: &str) -> Result<Vec<PolicyRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE org_id = ? ORDER BY cloud_id, product, created_at"
    ))
    .bind(org_id)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(policy_row).collect()
}

/// The app's policy on external storage, if any (exports and imports go through its storage).
pub async fn external_policy<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
) -> Result<Option<PolicyRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE cloud_id = ? AND product = ? AND storage_id IS NOT NULL"
    ))
    .bind(cloud_id)
    .bind(product.as_str())
    .fetch_optional(ex)
    .await?;
    row.map(policy_row).transpose()
}

/// Active policies whose scheduled run or retry is due.
pub async fn due_policies<'e>(ex: impl SqliteExecutor<'e>, now: DateTime<Utc>) -> Result<Vec<PolicyRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM policies
          WHERE (status = 'ACTIVE' AND next_run_at IS NOT NULL AND next_run_at <= ?1) OR (retry_at IS NOT NULL AND retry_at <= ?1)
          ORDER BY policy_id"
    ))
    .bind(ms(now))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(policy_row).collect()
}

pub async fn set_policy_schedule_state<'e>(
    ex: impl SqliteExecutor<'e>,
    policy_id: &str,
    status: PolicyStatus,
    next_run_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE policies SET status = ?, next_run_at = ? WHERE policy_id = ?")
        .bind(status.as_str())
        .bind(next_run_at.map(ms))
        .bind(policy_id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_policy_retry<'e>(
    ex: impl SqliteExecutor<'e>,
    policy_id: &str,
    retry_at: Option<DateTime<Utc>>,
    attempt: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE policies SET retry_at = ?, retry_attempt = ? WHERE policy_id = ?")
        .bind(retry_at.map(ms))
        .bind(attempt)
        .bind(policy_id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_last_backup_time<'e>(
    ex: impl SqliteExecutor<'e>,
    policy_id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE policies SET last_backup_time = ? WHERE policy_id = ?")
        .bind(ms(at))
        .bind(policy_id)
        .execute(ex)
        .await?;
    Ok(())
}

// ---- backups ----

#[derive(Clone, Debug)]
pub struct BackupRow {
    pub backup: Backup,
    pub org_id: String,
    pub attempt: i64,
}

fn backup_row(r: SqliteRow) -> Result<BackupRow, StoreError> {
    let counts: String = r.get("counts");
    Ok(BackupRow {
        org_id: r.get("org_id"),
        attempt: r.get("attempt"),
        backup: Backup {
            backup_id: r.get("backup_id"),
            policy_id: r.get("policy_id"),
            cloud_id: r.get("cloud_id"),
            product: product(&r)?,
            status: parse_col(BackupStatus::parse(r.get("status")), "backups.status")?,
            status_code: r.get("status_code"),
            status_message: r.get("status_message"),
            origin: parse_col(BackupOrigin::parse(r.get("origin")), "backups.origin")?,
            imported_from: r.get("imported_from"),
            created_at: from_ms(r.get("created_at")),
            created_by: r.get("created_by"),
            completed_at: opt_ms(r.get("completed_at")),
            expiry_time: from_ms(r.get("expiry_time")),
            storage_id: r.get("storage_id"),
            include_attachments: r.get("include_attachments"),
            include_users_and_groups: r.get("include_users_and_groups"),
            include_personal_spaces: r.get("include_personal_spaces"),
            backup_size: BackupSize {
                data_size: r.get::<i64, _>("data_size") as u64,
                users_size: r.get::<i64, _>("users_size") as u64,
                attachments_size: r.get::<i64, _>("attachments_size") as u64,
                stored_size: r.get::<i64, _>("stored_size") as u64,
            },
            counts: serde_json::from_str::<BTreeMap<String, u64>>(&counts).unwrap_or_default(),
            missing_attachments: r.get::<i64, _>("missing_attachments") as u64,
            progress: Progress {
                percent: r.get::<i64, _>("progress_percent").clamp(0, 100) as u8,
                items_done: r.get::<i64, _>("progress_items") as u64,
                items_total: r.get::<i64, _>("progress_total") as u64,
            },
        },
    })
}

pub async fn insert_backup<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, b: &Backup, attempt: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO backups (backup_id, org_id, policy_id, cloud_id, product, storage_id, status, status_message,
             origin, attempt, imported_from, include_attachments, include_users_and_groups, include_personal_spaces,
             created_at, created_by, expiry_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&b.backup_id)
    .bind(org_id)
    .bind(&b.policy_id)
    .bind(&b.cloud_id)
    .bind(b.product.as_str())
    .bind(&b.storage_id)
    .bind(b.status.as_str())
    .bind(&b.status_message)
    .bind(b.origin.as_str())
    .bind(attempt)
    .bind(&b.imported_from)
    .bind(b.include_attachments)
    .bind(b.include_users_and_groups)
    .bind(b.include_personal_spaces)
    .bind(ms(b.created_at))
    .bind(&b.created_by)
    .bind(ms(b.expiry_time))
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_backup<'e>(ex: impl SqliteExecutor<'e>, backup_id: &str) -> Result<Option<BackupRow>, StoreError> {
    let row = sqlx::query("SELECT * FROM backups WHERE backup_id = ?").bind(backup_id).fetch_optional(ex).await?;
    row.map(backup_row).transpose()
}

pub async fn list_backups_of_policy<'e>(
    ex: impl SqliteExecutor<'e>,
    policy_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Backup>, StoreError> {
    let rows = sqlx::query("SELECT * FROM backups WHERE policy_id = ? ORDER BY created_at DESC, backup_id DESC LIMIT ? OFFSET ?")
        .bind(policy_id)
        .bind(limit)
        .bind(offset as i64)
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(|r| backup_row(r).map(|b| b.backup)).collect()
}

pub async fn count_backups_of_policy<'e>(ex: impl SqliteExecutor<'e>, policy_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM backups WHERE policy_id = ?").bind(policy_id).fetch_one(ex).await?;
    Ok(n as u64)
}

/// One page of an organization's backups that `admin_id` administers (same rule as
/// `identity::is_app_admin`), newest first, and how many there are; `restorable_only` keeps COMPLETE
/// and INCOMPLETE ones. Filtering in SQL keeps a page view's cost independent of the number of backups.
pub async fn page_backups_for_admin(
    db: &super::Db,
    org_id: &str,
    admin_id: &str,
    restorable_only: bool,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Backup>, u64), StoreError> {
    let filter = format!(
        "FROM backups b WHERE b.org_id = ?1 {} AND {}",
        if restorable_only { "AND b.status IN ('COMPLETE', 'INCOMPLETE')" } else { "" },
        super::identity::administered_by("b", "?2")
    );
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}")).bind(org_id).bind(admin_id).fetch_one(db).await?;
    let rows = sqlx::query(&format!("SELECT b.* {filter} ORDER BY b.created_at DESC, b.backup_id DESC LIMIT ?3 OFFSET ?4"))
        .bind(org_id)
        .bind(admin_id)
        .bind(limit)
        .bind(offset as i64)
        .fetch_all(db)
        .await?;
    let backups = rows.into_iter().map(|r| backup_row(r).map(|b| b.backup)).collect::<Result<_, _>>()?;
    Ok((backups, total.max(0) as u64))
}

/// The last COMPLETE backup's creation time (the manual-run rate limit counts from it).
pub async fn last_complete_backup_at<'e>(
    ex: impl SqliteExecutor<'e>,
    policy_id: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_at) FROM backups WHERE policy_id = ? AND status = 'COMPLETE'")
            .bind(policy_id)
            .fetch_one(ex)
            .await?;
    Ok(opt_ms(v))
}

// ---- change marks (migration 0007) ----

/// Takes the app's next change generation. Called before the backup's snapshot begins, outside it.
pub async fn next_change_generation<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str, product: Product) -> Result<i64, StoreError> {
    // A missing row (never expected: apps get theirs on creation) starts past every generation of
    // the app's backups and changed in it, as for an app created again (migration 0007).
    Ok(sqlx::query_scalar(
        "INSERT INTO app_changes (cloud_id, product, generation, changed_in)
         SELECT ?1, ?2, g, g FROM (SELECT COALESCE(MAX(change_generation), 0) + 1 AS g FROM backups
                                    WHERE cloud_id = ?1 AND product = ?2)
         WHERE true
         ON CONFLICT (cloud_id, product) DO UPDATE SET generation = generation + 1 RETURNING generation",
    )
    .bind(cloud_id)
    .bind(product.as_str())
    .fetch_one(ex)
    .await?)
}

/// The generation in which the app's data last changed (0: not since change marks began).
pub async fn changed_in<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str, product: Product) -> Result<i64, StoreError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT changed_in FROM app_changes WHERE cloud_id = ? AND product = ?")
        .bind(cloud_id)
        .bind(product.as_str())
        .fetch_optional(ex)
        .await?;
    // No row: nothing is known, so nothing may be reused (no backup's generation exceeds i64::MAX).
    Ok(v.unwrap_or(i64::MAX))
}

/// The tables a restore fills in bulk; each has a per-row insert trigger `<table>_changed_insert`.
const BULK_INSERT_TABLES: [&str; 5] = ["jira_issues", "jira_comments", "confluence_pages", "confluence_comments", "attachments"];

/// The insert triggers of the bulk tables, dropped for one write transaction (`suspend_insert_marks`):
/// their definitions, to create them again before it commits.
#[must_use = "the triggers must be created again (resume_insert_marks) before the transaction commits"]
pub struct SuspendedInsertMarks(Vec<String>);

/// For a bulk insert into one app inside a write transaction: marks the app changed once, as the
/// first inserted row's trigger would, then drops the bulk tables' insert triggers, which would
/// otherwise run a program per row that finds the app already marked (SQLite starts a trigger's
/// program for every row, whatever its `WHEN`; ~12 % of a restore's time). No other connection
/// ever sees them gone: DDL is transactional, readers keep their snapshot, and no other writer
/// can begin before this transaction ends — rolled back with the triggers in place, or committed
/// after `resume_insert_marks`. Only inserts into `cloud_id`'s `product` may run in between.
pub async fn suspend_insert_marks(
    conn: &mut sqlx::SqliteConnection,
    cloud_id: &str,
    product: Product,
) -> Result<SuspendedInsertMarks, StoreError> {
    sqlx::query("UPDATE app_changes SET changed_in = generation WHERE changed_in <> generation AND cloud_id = ? AND product = ?")
        .bind(cloud_id)
        .bind(product.as_str())
        .execute(&mut *conn)
        .await?;
    let mut definitions = Vec::new();
    for table in BULK_INSERT_TABLES {
        let name = format!("{table}_changed_insert");
        let sql: Option<String> = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ? AND tbl_name = ?")
            .bind(&name)
            .bind(table)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(sql) = sql else { continue };
        sqlx::query(&format!("DROP TRIGGER \"{name}\"")).execute(&mut *conn).await?;
        definitions.push(sql);
    }
    Ok(SuspendedInsertMarks(definitions))
}

/// Creates the triggers `suspend_insert_marks` dropped again, as they were.
pub async fn resume_insert_marks(conn: &mut sqlx::SqliteConnection, suspended: SuspendedInsertMarks) -> Result<(), StoreError> {
    for sql in suspended.0 {
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The newest COMPLETE backup of the same app, into the same storage, with the same options, taken
/// after the app's data last changed: its records are exactly what `b` would write.
pub async fn unchanged_backup<'e>(ex: impl SqliteExecutor<'e>, b: &Backup, changed_in: i64) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT backup_id FROM backups
          WHERE cloud_id = ? AND product = ? AND storage_id IS ? AND status = 'COMPLETE' AND change_generation > ?
            AND include_attachments = ? AND include_users_and_groups = ? AND include_personal_spaces = ?
            AND backup_id <> ? AND expiry_time > ?
          ORDER BY change_generation DESC LIMIT 1",
    )
    .bind(&b.cloud_id)
    .bind(b.product.as_str())
    .bind(&b.storage_id)
    .bind(changed_in)
    .bind(b.include_attachments)
    .bind(b.include_users_and_groups)
    .bind(b.include_personal_spaces)
    .bind(&b.backup_id)
    .bind(ms(Utc::now()))
    .fetch_optional(ex)
    .await?)
}

/// Marks the blobs as used now, in one statement; returns those the storage's blob index has.
pub async fn touch_blobs<'e>(
    ex: impl SqliteExecutor<'e>,
    storage_key: &str,
    sha256s: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let list = serde_json::to_string(sha256s).unwrap_or_else(|_| "[]".into());
    Ok(sqlx::query_scalar(
        "UPDATE storage_blobs SET last_used_at = ? WHERE storage_key = ? AND sha256 IN (SELECT value FROM json_each(?))
         RETURNING sha256",
    )
    .bind(ms(now))
    .bind(storage_key)
    .bind(list)
    .fetch_all(ex)
    .await?)
}

pub async fn set_backup_progress<'e>(
    ex: impl SqliteExecutor<'e>,
    backup_id: &str,
    progress: &Progress,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET progress_percent = ?, progress_items = ?, progress_total = ?
          WHERE backup_id = ? AND status = 'IN_PROGRESS'",
    )
    .bind(progress.percent as i64)
    .bind(progress.items_done as i64)
    .bind(progress.items_total as i64)
    .bind(backup_id)
    .execute(ex)
    .await?;
    Ok(())
}

/// What a finished backup records.
pub struct BackupResult<'a> {
    pub status: BackupStatus,
    pub code: Option<&'a str>,
    pub message: Option<String>,
    pub size: BackupSize,
    pub counts: &'a BTreeMap<String, u64>,
    pub missing_attachments: u64,
    pub completed_at: DateTime<Utc>,
    /// The app's change generation the backup took (see migration 0007), `None` for imports.
    pub change_generation: Option<i64>,
}

/// Ends a running backup (only one still IN_PROGRESS: a cancelled or recovered one stays ended).
pub async fn finish_backup<'e>(
    ex: impl SqliteExecutor<'e>,
    backup_id: &str,
    r: &BackupResult<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE backups SET status = ?, status_code = ?, status_message = ?, data_size = ?, users_size = ?,
             attachments_size = ?, stored_size = ?, counts = ?, missing_attachments = ?, completed_at = ?,
             change_generation = ?, progress_percent = CASE WHEN ? IN ('COMPLETE', 'INCOMPLETE') THEN 100 ELSE progress_percent END
          WHERE backup_id = ? AND status = 'IN_PROGRESS'",
    )
    .bind(r.status.as_str())
    .bind(r.code)
    .bind(&r.message)
    .bind(r.size.data_size as i64)
    .bind(r.size.users_size as i64)
    .bind(r.size.attachments_size as i64)
    .bind(r.size.stored_size as i64)
    .bind(serde_json::to_string(r.counts).unwrap_or_else(|_| "{}".into()))
    .bind(r.missing_attachments as i64)
    .bind(ms(r.completed_at))
    .bind(r.change_generation)
    .bind(r.status.as_str())
    .bind(backup_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Finished backups past their expiry, oldest first.
pub async fn expired_backups<'e>(ex: impl SqliteExecutor<'e>, now: DateTime<Utc>) -> Result<Vec<BackupRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM backups WHERE status IN ('COMPLETE', 'INCOMPLETE') AND expiry_time <= ? ORDER BY expiry_time LIMIT 500",
    )
    .bind(ms(now))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(backup_row).collect()
}

pub async fn mark_expired<'e>(ex: impl SqliteExecutor<'e>, backup_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET status = 'EXPIRED', expired_at = ?,
             status_message = 'Expired: the archive was deleted at the end of its retention period'
          WHERE backup_id = ? AND status IN ('COMPLETE', 'INCOMPLETE')",
    )
    .bind(ms(now))
    .bind(backup_id)
    .execute(ex)
    .await?;
    Ok(())
}

/// The creation time of the oldest backup, export or import that may still refer to blobs of a
/// storage (`""` = managed): blobs last used before it are garbage.
pub async fn oldest_live_reference<'e>(
    ex: impl SqliteExecutor<'e>,
    storage_key: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(t) FROM (
             SELECT MIN(created_at) AS t FROM backups
              WHERE COALESCE(storage_id, '') = ?1 AND status IN ('IN_PROGRESS', 'COMPLETE', 'INCOMPLETE')
             UNION ALL
             SELECT MIN(created_at) FROM exports WHERE storage_id = ?1 AND status IN ('IN_PROGRESS', 'COMPLETE')
             UNION ALL
             SELECT MIN(created_at) FROM imports WHERE ?1 = '' AND status = 'IN_PROGRESS')",
    )
    .bind(storage_key)
    .fetch_one(ex)
    .await?;
    Ok(opt_ms(v))
}

// ---- the per-app operation lock ----

/// Takes the app's lock for a backup or restore; false when another operation holds it.
pub async fn try_lock_app<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
    kind: &str,
    operation_id: &str,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO app_operations (cloud_id, product, kind, operation_id, started_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (cloud_id, product) DO NOTHING",
    )
    .bind(cloud_id)
    .bind(product.as_str())
    .bind(kind)
    .bind(operation_id)
    .bind(ms(Utc::now()))
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn unlock_app<'e>(ex: impl SqliteExecutor<'e>, operation_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM app_operations WHERE operation_id = ?").bind(operation_id).execute(ex).await?;
    Ok(())
}

pub async fn app_is_busy<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str, product: Product) -> Result<bool, StoreError> {
    let v: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app_operations WHERE cloud_id = ? AND product = ?)")
        .bind(cloud_id)
        .bind(product.as_str())
        .fetch_one(ex)
        .await?;
    Ok(v)
}

// ---- blob index ----

/// Adds blobs now in the storage to its index (or marks them used now), in one statement.
pub async fn record_blobs<'e>(
    ex: impl SqliteExecutor<'e>,
    storage_key: &str,
    blobs: &[(String, u64)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if blobs.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(blobs).unwrap_or_else(|_| "[]".into());
    // `WHERE true`: SQLite's grammar needs it between an INSERT's SELECT and its ON CONFLICT.
    sqlx::query(
        "INSERT INTO storage_blobs (storage_key, sha256, size, last_used_at)
         SELECT ?, value ->> 0, value ->> 1, ? FROM json_each(?) WHERE true
         ON CONFLICT (storage_key, sha256) DO UPDATE SET last_used_at = excluded.last_used_at",
    )
    .bind(storage_key)
    .bind(ms(now))
    .bind(list)
    .execute(ex)
    .await?;
    Ok(())
}

/// Removes from the index (and returns) up to `limit` blobs of a storage last used before `before`.
pub async fn take_garbage_blobs<'e>(
    ex: impl SqliteExecutor<'e>,
    storage_key: &str,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "DELETE FROM storage_blobs WHERE rowid IN (
             SELECT rowid FROM storage_blobs WHERE storage_key = ?1 AND last_used_at < ?2 LIMIT ?3)
         RETURNING sha256",
    )
    .bind(storage_key)
    .bind(ms(before))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows)
}

pub async fn storage_keys_with_blobs<'e>(ex: impl SqliteExecutor<'e>) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT DISTINCT storage_key FROM storage_blobs").fetch_all(ex).await?)
}

// ---- exports and imports ----

fn export_row(r: SqliteRow) -> Result<Export, StoreError> {
    Ok(Export {
        export_id: r.get("export_id"),
        cloud_id: r.get("cloud_id"),
        product: product(&r)?,
        backup_id: r.get("backup_id"),
        storage_id: r.get("storage_id"),
        status: parse_col(TransferStatus::parse(r.get("status")), "exports.status")?,
        status_message: r.get("status_message"),
        copied_bytes: r.get::<i64, _>("copied_bytes") as u64,
        progress: Progress { percent: r.get::<i64, _>("progress_percent").clamp(0, 100) as u8, ..Default::default() },
        created_at: from_ms(r.get("created_at")),
        created_by: r.get("created_by"),
        completed_at: opt_ms(r.get("completed_at")),
    })
}

fn import_row(r: SqliteRow) -> Result<Import, StoreError> {
    Ok(Import {
        import_id: r.get("import_id"),
        cloud_id: r.get("cloud_id"),
        product: product(&r)?,
        backup_id: r.get("backup_id"),
        storage_id: r.get("storage_id"),
        imported_backup_id: r.get("imported_backup_id"),
        status: parse_col(TransferStatus::parse(r.get("status")), "imports.status")?,
        status_message: r.get("status_message"),
        copied_bytes: r.get::<i64, _>("copied_bytes") as u64,
        progress: Progress { percent: r.get::<i64, _>("progress_percent").clamp(0, 100) as u8, ..Default::default() },
        created_at: from_ms(r.get("created_at")),
        created_by: r.get("created_by"),
        completed_at: opt_ms(r.get("completed_at")),
    })
}

pub async fn insert_export<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, e: &Export) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO exports (export_id, org_id, cloud_id, product, backup_id, storage_id, status, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, 'IN_PROGRESS', ?, ?)",
    )
    .bind(&e.export_id)
    .bind(org_id)
    .bind(&e.cloud_id)
    .bind(e.product.as_str())
    .bind(&e.backup_id)
    .bind(&e.storage_id)
    .bind(ms(e.created_at))
    .bind(&e.created_by)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn insert_import<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, i: &Import) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO imports (import_id, org_id, cloud_id, product, backup_id, storage_id, imported_backup_id, status,
             created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'IN_PROGRESS', ?, ?)",
    )
    .bind(&i.import_id)
    .bind(org_id)
    .bind(&i.cloud_id)
    .bind(i.product.as_str())
    .bind(&i.backup_id)
    .bind(&i.storage_id)
    .bind(&i.imported_backup_id)
    .bind(ms(i.created_at))
    .bind(&i.created_by)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_export<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, export_id: &str) -> Result<Option<Export>, StoreError> {
    let row = sqlx::query("SELECT * FROM exports WHERE org_id = ? AND export_id = ?")
        .bind(org_id)
        .bind(export_id)
        .fetch_optional(ex)
        .await?;
    row.map(export_row).transpose()
}

pub async fn find_import<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, import_id: &str) -> Result<Option<Import>, StoreError> {
    let row = sqlx::query("SELECT * FROM imports WHERE org_id = ? AND import_id = ?")
        .bind(org_id)
        .bind(import_id)
        .fetch_optional(ex)
        .await?;
    row.map(import_row).transpose()
}

/// Export and import rows by id alone (the job runner; rights were checked when they were created).
pub async fn export_by_id<'e>(ex: impl SqliteExecutor<'e>, export_id: &str) -> Result<Option<(String, Export)>, StoreError> {
    let row = sqlx::query("SELECT * FROM exports WHERE export_id = ?").bind(export_id).fetch_optional(ex).await?;
    row.map(|r| {
        let org: String = r.get("org_id");
        export_row(r).map(|e| (org, e))
    })
    .transpose()
}

pub async fn import_by_id<'e>(ex: impl SqliteExecutor<'e>, import_id: &str) -> Result<Option<(String, Import)>, StoreError> {
    let row = sqlx::query("SELECT * FROM imports WHERE import_id = ?").bind(import_id).fetch_optional(ex).await?;
    row.map(|r| {
        let org: String = r.get("org_id");
        import_row(r).map(|i| (org, i))
    })
    .transpose()
}

/// The newest 500 exports of the apps `admin_id` administers.
pub async fn list_exports<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    admin_id: &str,
    product: Option<Product>,
) -> Result<Vec<Export>, StoreError> {
    let sql = format!(
        "SELECT * FROM exports e WHERE e.org_id = ?1 AND (?3 IS NULL OR e.product = ?3) AND {}
          ORDER BY e.created_at DESC LIMIT 500",
        super::identity::administered_by("e", "?2")
    );
    let rows = sqlx::query(&sql).bind(org_id).bind(admin_id).bind(product.map(Product::as_str)).fetch_all(ex).await?;
    rows.into_iter().map(export_row).collect()
}

/// The newest 500 imports into the apps `admin_id` administers.
pub async fn list_imports<'e>(ex: impl SqliteExecutor<'e>, org_id: &str, admin_id: &str) -> Result<Vec<Import>, StoreError> {
    let sql = format!(
        "SELECT * FROM imports i WHERE i.org_id = ?1 AND {} ORDER BY i.created_at DESC LIMIT 500",
        super::identity::administered_by("i", "?2")
    );
    let rows = sqlx::query(&sql).bind(org_id).bind(admin_id).fetch_all(ex).await?;
    rows.into_iter().map(import_row).collect()
}

/// Updates an export's or an import's progress or final state (`table` is a fixed name, never input).
pub async fn set_transfer<'e>(
    ex: impl SqliteExecutor<'e>,
    table: TransferTable,
    id: &str,
    status: TransferStatus,
    message: Option<&str>,
    copied_bytes: u64,
    percent: u8,
) -> Result<(), StoreError> {
    let (table, key) = match table {
        TransferTable::Exports => ("exports", "export_id"),
        TransferTable::Imports => ("imports", "import_id"),
    };
    let completed = (status != TransferStatus::InProgress).then(|| ms(Utc::now()));
    sqlx::query(&format!(
        "UPDATE {table} SET status = ?, status_message = ?, copied_bytes = ?, progress_percent = ?, completed_at = ?
          WHERE {key} = ? AND status = 'IN_PROGRESS'"
    ))
    .bind(status.as_str())
    .bind(message)
    .bind(copied_bytes as i64)
    .bind(percent as i64)
    .bind(completed)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub enum TransferTable {
    Exports,
    Imports,
}
