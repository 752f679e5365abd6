//! The JSON REST API under `/api/v1` (SPEC §5). Handlers are thin: authenticate, parse, call one
//! domain service, map the result.

mod auth;
mod backup;
mod content;
mod error;
mod extract;
mod orgs;
mod platform;
mod restore;

use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Serialize;

pub use auth::ApiAdmin;
pub use error::ApiError;

use crate::startup::AppState;

/// A list that is not paginated: `{"items": [...]}` (paginated lists add `total`, `offset`, `limit`,
/// `nextOffset`).
#[derive(Serialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(items: Vec<T>) -> Self {
        Items { items }
    }
}

pub fn router() -> Router<AppState> {
    let site = "/orgs/{org_id}/cloud/{cloud_id}";
    Router::new()
        .route("/orgs", get(orgs::list_orgs))
        .route("/orgs/{org_id}", get(orgs::get_org))
        .route("/orgs/{org_id}/sites", get(platform::list_sites).post(platform::create_site))
        .route("/orgs/{org_id}/users", get(platform::list_users).post(platform::create_user))
        .route("/orgs/{org_id}/groups", get(platform::list_groups).post(platform::create_group))
        .route("/orgs/{org_id}/access-reviews", get(platform::list_access_reviews))
        .route("/orgs/{org_id}/access-reviews/{review_id}/{decision}", post(platform::decide_access_review))
        .route("/orgs/{org_id}/storages/regions", post(backup::regions))
        .route("/orgs/{org_id}/storages", get(backup::list_storages).post(backup::create_storage))
        .route("/orgs/{org_id}/storages/{storage_id}", get(backup::get_storage))
        .route(&format!("{site}/policies"), post(backup::create_policy))
        .route("/orgs/{org_id}/policies", get(backup::list_policies))
        .route("/orgs/{org_id}/policies/{policy_id}", get(backup::get_policy).put(backup::update_policy))
        .route("/orgs/{org_id}/policies/{policy_id}/backups", get(backup::list_backups))
        .route("/orgs/{org_id}/backups", post(backup::create_backup))
        .route("/orgs/{org_id}/backups/{backup_id}", get(backup::get_backup))
        .route("/orgs/{org_id}/backups/{backup_id}/cancel", post(backup::cancel_backup))
        .route("/orgs/{org_id}/exports", get(backup::list_exports).post(backup::create_exports))
        .route(&format!("{site}/exports/{{export_id}}"), get(backup::get_export))
        .route("/orgs/{org_id}/imports", get(backup::list_imports).post(backup::create_imports))
        .route(&format!("{site}/imports/{{import_id}}"), get(backup::get_import))
        .route(&format!("{site}/restores"), post(restore::create_restore))
        .route(&format!("{site}/restores/revalidate"), post(restore::revalidate))
        .route("/orgs/{org_id}/restores", get(restore::list_restores))
        .route("/orgs/{org_id}/restores/{restore_id}", get(restore::get_restore))
        .route(&format!("{site}/migration/{{migration_id}}/postOpReport"), get(restore::post_op_report))
        .route(&format!("{site}/apps"), get(platform::list_apps))
        .route(&format!("{site}/apps/{{product}}/access"), put(platform::grant_access).get(platform::list_access))
        .route(&format!("{site}/apps/{{product}}/digest"), get(platform::app_digest))
        .route(&format!("{site}/jira/projects"), get(content::list_projects).post(content::create_project))
        .route(&format!("{site}/jira/projects/{{key}}/issues"), get(content::list_issues).post(content::create_issue))
        .route(&format!("{site}/jira/issues/{{issue_key}}"), get(content::get_issue))
        .route(&format!("{site}/jira/issues/{{issue_key}}/attachments"), post(content::upload_issue_attachment))
        .route(&format!("{site}/confluence/spaces"), get(content::list_spaces).post(content::create_space))
        .route(&format!("{site}/confluence/spaces/{{key}}"), delete(content::delete_space))
        .route(&format!("{site}/confluence/spaces/{{key}}/pages"), get(content::list_pages).post(content::create_page))
        .route(&format!("{site}/confluence/pages/{{page_id}}"), get(content::get_page))
        .route(&format!("{site}/confluence/pages/{{page_id}}/attachments"), post(content::upload_page_attachment))
        .route(&format!("{site}/attachments/{{attachment_id}}"), get(content::download_attachment))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such API endpoint") })
}
