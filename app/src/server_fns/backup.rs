//! The Backups and Storage tabs: thin calls into the domain's backup services. Form fields arrive
//! as strings (checkboxes only when ticked), so that every form also works without JavaScript.

use leptos::prelude::*;
use lifeboat_domain::model::{Backup, Export, Import, Policy, Site, Storage};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Everything the Backups tab shows, in one round trip.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupsTabData {
    pub policies: Vec<Policy>,
    /// One page of the backups, newest first.
    pub backups: Vec<Backup>,
    /// Backups in all, and where this page starts.
    pub total_backups: u64,
    pub offset: u64,
    /// The newest finished backups, for the size chart whatever the page.
    pub chart: Vec<Backup>,
    pub sites: Vec<Site>,
    pub storages: Vec<Storage>,
}

/// Rows per page of the backups table: rendering rows is what a page view costs (see
/// docs/PERFORMANCE.md), so the table pages like every other.
pub const BACKUPS_PAGE: u64 = 50;
/// Bars in the size chart.
#[cfg(feature = "ssr")]
const CHART_BARS: u32 = 20;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StorageTabData {
    pub storages: Vec<Storage>,
    pub regions: Vec<String>,
    pub exports: Vec<Export>,
    pub imports: Vec<Import>,
    pub sites: Vec<Site>,
}

#[server(prefix = "/sfn", endpoint = "backups_overview", output = crate::server_fns::JsonAnswer)]
pub async fn backups_overview(org_id: String, offset: u64) -> Result<BackupsTabData, AppError> {
    use lifeboat_domain::service::backup as svc;
    let (backend, admin) = crate::session::current_admin().await?;
    let a = &admin.admin_id;
    use lifeboat_domain::model::PageRequest;
    let page = svc::run::backups_page(&backend, a, &org_id, false, PageRequest { limit: Some(BACKUPS_PAGE as u32), offset: Some(offset) }).await?;
    let chart = svc::run::backups_page(&backend, a, &org_id, true, PageRequest { limit: Some(CHART_BARS), offset: None }).await?;
    Ok(BackupsTabData {
        policies: svc::list_policies(&backend, a, &org_id).await?,
        backups: page.items,
        total_backups: page.total,
        offset: page.offset,
        chart: chart.items,
        sites: lifeboat_domain::service::platform::list_sites(&backend.db, a, &org_id).await?,
        storages: svc::list_storages(&backend, a, &org_id, Default::default()).await?,
    })
}

#[server(prefix = "/sfn", endpoint = "storage_overview", output = crate::server_fns::JsonAnswer)]
pub async fn storage_overview(org_id: String) -> Result<StorageTabData, AppError> {
    use lifeboat_domain::service::backup::{self as svc, transfer};
    let (backend, admin) = crate::session::current_admin().await?;
    let a = &admin.admin_id;
    Ok(StorageTabData {
        storages: svc::list_storages(&backend, a, &org_id, Default::default()).await?,
        regions: svc::regions(&backend, a, &org_id).await?.regions,
        exports: transfer::list_exports(&backend, a, &org_id, Default::default()).await?,
        imports: transfer::list_imports(&backend, a, &org_id).await?,
        sites: lifeboat_domain::service::platform::list_sites(&backend.db, a, &org_id).await?,
    })
}

/// `cloudId|PRODUCT` from an app picker.
#[cfg(feature = "ssr")]
fn parse_app(app: &str) -> Result<(String, lifeboat_domain::model::Product), AppError> {
    app.split_once('|')
        .and_then(|(c, p)| lifeboat_domain::model::Product::parse(p).map(|p| (c.to_owned(), p)))
        .ok_or_else(|| crate::error::invalid("INVALID_APP", "Choose an app."))
}

#[cfg(feature = "ssr")]
fn parse_schedule(
    interval: &str,
    time_of_day: Option<String>,
    day_of_week: Option<String>,
) -> Result<Option<lifeboat_domain::model::Schedule>, AppError> {
    use lifeboat_domain::model::{DayOfWeek, Interval, Schedule};
    let Some(interval) = Interval::parse(interval) else { return Ok(None) };
    let day_of_week = match interval {
        Interval::Weekly => Some(
            day_of_week
                .as_deref()
                .and_then(DayOfWeek::parse)
                .ok_or_else(|| crate::error::invalid("INVALID_SCHEDULE", "Choose the day of the week."))?,
        ),
        _ => None,
    };
    let time_of_day = time_of_day.filter(|t| !t.is_empty()).unwrap_or_else(|| "00:00".into());
    Ok(Some(Schedule { interval, time_of_day, day_of_week }))
}

#[server(prefix = "/sfn", endpoint = "create_policy", output = crate::server_fns::JsonAnswer)]
#[allow(clippy::too_many_arguments)]
pub async fn create_policy(
    org_id: String,
    app: String,
    storage_id: String,
    include_attachments: Option<String>,
    include_users_and_groups: Option<String>,
    include_personal_spaces: Option<String>,
    interval: String,
    time_of_day: Option<String>,
    day_of_week: Option<String>,
) -> Result<Policy, AppError> {
    use lifeboat_domain::model::{NewPolicy, Product};
    let (backend, admin) = crate::session::current_admin().await?;
    let (cloud_id, product) = parse_app(&app)?;
    let req = NewPolicy {
        product,
        storage_id: Some(storage_id).filter(|s| !s.is_empty()),
        include_attachments: include_attachments.is_some(),
        include_users_and_groups: include_users_and_groups.is_some(),
        include_personal_spaces: (product == Product::Confluence).then_some(include_personal_spaces.is_some()),
        schedule: parse_schedule(&interval, time_of_day, day_of_week)?,
    };
    Ok(lifeboat_domain::service::backup::create_policy(&backend, &admin.admin_id, &org_id, &cloud_id, req).await?)
}

#[server(prefix = "/sfn", endpoint = "update_policy", output = crate::server_fns::JsonAnswer)]
#[allow(clippy::too_many_arguments)]
pub async fn update_policy(
    org_id: String,
    policy_id: String,
    storage_id: String,
    include_attachments: Option<String>,
    include_users_and_groups: Option<String>,
    include_personal_spaces: Option<String>,
    interval: String,
    time_of_day: Option<String>,
    day_of_week: Option<String>,
) -> Result<Policy, AppError> {
    use lifeboat_domain::model::{PolicyUpdate, Product};
    let (backend, admin) = crate::session::current_admin().await?;
    let current = lifeboat_domain::service::backup::get_policy(&backend, &admin.admin_id, &org_id, &policy_id).await?;
    let req = PolicyUpdate {
        storage_id: Some(storage_id).filter(|s| !s.is_empty()),
        include_attachments: Some(include_attachments.is_some()),
        include_users_and_groups: Some(include_users_and_groups.is_some()),
        include_personal_spaces: (current.product == Product::Confluence).then_some(include_personal_spaces.is_some()),
        schedule: Some(parse_schedule(&interval, time_of_day, day_of_week)?),
    };
    Ok(lifeboat_domain::service::backup::update_policy(&backend, &admin.admin_id, &org_id, &policy_id, req).await?)
}

#[server(prefix = "/sfn", endpoint = "run_backup", output = crate::server_fns::JsonAnswer)]
pub async fn run_backup(org_id: String, policy_id: String) -> Result<Backup, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let req = lifeboat_domain::model::NewBackup { policy_id, cloud_id: None };
    Ok(lifeboat_domain::service::backup::run::create_backup(&backend, &admin.admin_id, &org_id, req).await?)
}

#[server(prefix = "/sfn", endpoint = "cancel_backup", output = crate::server_fns::JsonAnswer)]
pub async fn cancel_backup(org_id: String, backup_id: String) -> Result<Backup, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::backup::run::cancel_backup(&backend, &admin.admin_id, &org_id, &backup_id).await?)
}

#[server(prefix = "/sfn", endpoint = "export_backup", output = crate::server_fns::JsonAnswer)]
pub async fn export_backup(org_id: String, backup_id: String, app: String) -> Result<Vec<Export>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let (cloud_id, product) = parse_app(&app)?;
    let item = lifeboat_domain::model::TransferRequest { product, cloud_id, backup_id };
    Ok(lifeboat_domain::service::backup::transfer::create_exports(&backend, &admin.admin_id, &org_id, vec![item]).await?)
}

#[server(prefix = "/sfn", endpoint = "import_backup", output = crate::server_fns::JsonAnswer)]
pub async fn import_backup(org_id: String, app: String, backup_id: String) -> Result<Vec<Import>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let (cloud_id, product) = parse_app(&app)?;
    let item = lifeboat_domain::model::TransferRequest { product, cloud_id, backup_id: backup_id.trim().to_owned() };
    Ok(lifeboat_domain::service::backup::transfer::create_imports(&backend, &admin.admin_id, &org_id, vec![item]).await?)
}

#[server(prefix = "/sfn", endpoint = "create_storage", output = crate::server_fns::JsonAnswer)]
#[allow(clippy::too_many_arguments)]
pub async fn create_storage(
    org_id: String,
    storage_type: String,
    storage_name: String,
    storage_region: Option<String>,
    storage_prefix: Option<String>,
    endpoint: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    path: Option<String>,
    cloud_id: Option<String>,
) -> Result<Storage, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let some = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let req = lifeboat_domain::model::NewStorage {
        storage_type,
        storage_name,
        storage_region: some(storage_region),
        storage_prefix: some(storage_prefix),
        cloud_id: some(cloud_id),
        endpoint: some(endpoint),
        access_key_id: some(access_key_id),
        secret_access_key: some(secret_access_key),
        path: some(path),
        role_identifier: None,
        principal_tag: None,
    };
    Ok(lifeboat_domain::service::backup::create_storage(&backend, &admin.admin_id, &org_id, req).await?)
}
