//! The audit log page.

use leptos::prelude::*;
use lifeboat_domain::model::{AuditEntry, Paged};

use crate::error::AppError;

/// One page of the organization's audit log, newest first. Empty filters mean "any".
#[server(prefix = "/sfn", endpoint = "audit_log", output = crate::server_fns::JsonAnswer)]
pub async fn audit_log(org_id: String, actor: String, action: String, offset: u64) -> Result<Paged<AuditEntry>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let filter = lifeboat_domain::model::AuditFilter {
        actor: Some(actor.trim().to_owned()).filter(|a| !a.is_empty()),
        action: Some(action.trim().to_owned()).filter(|a| !a.is_empty()),
        since: None,
        limit: Some(50),
        offset: Some(offset),
    };
    Ok(lifeboat_domain::service::audit::list_audit(&backend.db, &admin.admin_id, &org_id, filter).await?)
}
