//! The audit log (SPEC §2, §5.1 additions).

use axum::extract::{Path, State};
use axum::Json;
use lifeboat_domain::model::{AuditEntry, AuditFilter, Paged};
use lifeboat_domain::service::audit;

use super::error::ErrorResponses;
use super::extract::QueryParams;
use super::{ApiAdmin, ApiError};
use crate::startup::AppState;

/// Every state-changing action in the organization, newest first: who, what, on which object,
/// when, and how it ended.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/audit",
    tag = "Audit",
    params(("org_id" = String, Path), AuditFilter),
    responses((status = 200, description = "OK", body = Paged<AuditEntry>), ErrorResponses)
)]
pub async fn list_audit(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<AuditFilter>,
) -> Result<Json<Paged<AuditEntry>>, ApiError> {
    Ok(Json(audit::list_audit(&s.backend.db, &a.admin_id, &org, filter).await?))
}
