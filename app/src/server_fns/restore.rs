//! The Restore wizard, the Restores tab and app-access reviews. The wizard's steps are URLs (query
//! parameters), and the two server functions that act redirect to the next step, so the whole
//! flow also works without JavaScript.

use leptos::prelude::*;
use lifeboat_domain::model::{AccessReview, Backup, PostOpReport, Restore, Site};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WizardData {
    pub sites: Vec<Site>,
    /// Restorable backups (COMPLETE or INCOMPLETE, not expired), newest first.
    pub backups: Vec<Backup>,
}

#[server(prefix = "/sfn", endpoint = "load_wizard", output = crate::server_fns::JsonAnswer)]
pub async fn load_wizard(org_id: String) -> Result<WizardData, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let now = chrono::Utc::now();
    // Restorable backups of the apps the caller administers, filtered in SQL (a quiet app's backups
    // are not crowded out by other apps' newer ones).
    let page = lifeboat_domain::model::PageRequest { limit: Some(lifeboat_domain::rules::paging::MAX_LIMIT), offset: Some(0) };
    let backups = lifeboat_domain::service::backup::run::backups_page(&backend, &admin.admin_id, &org_id, true, page)
        .await?
        .items
        .into_iter()
        .filter(|b| b.expiry_time > now)
        .collect();
    let sites = lifeboat_domain::service::platform::list_sites(&backend.db, &admin.admin_id, &org_id).await?;
    Ok(WizardData { sites, backups })
}

#[server(prefix = "/sfn", endpoint = "get_restore", output = crate::server_fns::JsonAnswer)]
pub async fn get_restore(org_id: String, restore_id: String) -> Result<Restore, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::restore::get_restore(&backend, &admin.admin_id, &org_id, &restore_id).await?)
}

/// *Validate*: creates the restore (refusals, then checks and plan) and goes to the validation step.
#[server(prefix = "/sfn", endpoint = "create_restore", output = crate::server_fns::JsonAnswer)]
pub async fn create_restore(
    org_id: String,
    dest: String,
    backup: String,
    product: String,
    attachments: Option<String>,
    users: Option<String>,
    personal: Option<String>,
) -> Result<Restore, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let product = lifeboat_domain::model::Product::parse(&product).ok_or_else(|| crate::error::invalid("INVALID_APP", "Choose an app."))?;
    let req = lifeboat_domain::model::NewRestore {
        backup_id: backup,
        product,
        include_attachments: Some(attachments.is_some()),
        include_users_and_groups: Some(users.is_some()),
        include_personal_spaces: (product == lifeboat_domain::model::Product::Confluence).then_some(personal.is_some()),
    };
    let r = lifeboat_domain::service::restore::create_restore(&backend, &admin.admin_id, &org_id, &dest, req).await?;
    leptos_axum::redirect(&format!("/orgs/{org_id}/backup-and-restore/restore?restore={}", r.restore_id));
    Ok(r)
}

/// *Restore*: sends the consents; the restore starts when nothing is missing.
#[server(prefix = "/sfn", endpoint = "start_restore", output = crate::server_fns::JsonAnswer)]
pub async fn start_restore(org_id: String, dest: String, restore_id: String, consents: String) -> Result<Restore, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let consent: Vec<String> = consents.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    let req = lifeboat_domain::model::Revalidate { restore_id: restore_id.clone(), consent };
    let r = lifeboat_domain::service::restore::revalidate(&backend, &admin.admin_id, &org_id, &dest, req).await?;
    let next = if r.status == lifeboat_domain::model::RestoreStatus::AwaitingConsent {
        format!("/orgs/{org_id}/backup-and-restore/restore?restore={restore_id}")
    } else {
        format!("/orgs/{org_id}/backup-and-restore/restores?restore={restore_id}")
    };
    leptos_axum::redirect(&next);
    Ok(r)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoresData {
    pub restores: Vec<Restore>,
    pub sites: Vec<Site>,
}

#[server(prefix = "/sfn", endpoint = "load_restores", output = crate::server_fns::JsonAnswer)]
pub async fn load_restores(org_id: String) -> Result<RestoresData, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let restores = lifeboat_domain::service::restore::list_restores(&backend, &admin.admin_id, &org_id, Default::default()).await?;
    let sites = lifeboat_domain::service::platform::list_sites(&backend.db, &admin.admin_id, &org_id).await?;
    Ok(RestoresData { restores, sites })
}

#[server(prefix = "/sfn", endpoint = "fetch_report", output = crate::server_fns::JsonAnswer)]
pub async fn fetch_report(org_id: String, cloud_id: String, migration_id: String) -> Result<PostOpReport, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::restore::post_op_report(&backend, &admin.admin_id, &org_id, &cloud_id, &migration_id).await?)
}

#[server(prefix = "/sfn", endpoint = "access_reviews", output = crate::server_fns::JsonAnswer)]
pub async fn access_reviews(org_id: String) -> Result<Vec<AccessReview>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::platform::list_access_reviews(&backend.db, &admin.admin_id, &org_id).await?)
}

/// How many restored groups' grants wait for the caller's review (the banner over the tabs: a count,
/// not the list, on every navigation between them).
#[server(prefix = "/sfn", endpoint = "pending_access_reviews", output = crate::server_fns::JsonAnswer)]
pub async fn pending_access_reviews(org_id: String) -> Result<u32, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let reviews = lifeboat_domain::service::platform::list_access_reviews(&backend.db, &admin.admin_id, &org_id).await?;
    Ok(u32::try_from(reviews.len()).unwrap_or(u32::MAX))
}

/// *Approve* or *Deny* one restored group's access.
#[server(prefix = "/sfn", endpoint = "decide_review", output = crate::server_fns::JsonAnswer)]
pub async fn decide_review(org_id: String, review_id: String, decision: String) -> Result<AccessReview, AppError> {
    use lifeboat_domain::model::ReviewDecision;
    let (backend, admin) = crate::session::current_admin().await?;
    let Some(decision) = ReviewDecision::parse(&decision) else {
        return Err(crate::error::invalid("INVALID_DECISION", "Approve or deny."));
    };
    Ok(lifeboat_domain::service::platform::decide_access_review(&backend.db, &admin.admin_id, &org_id, &review_id, decision).await?)
}
