use axum::extract::{Path, State};
use axum::Json;
use lifeboat_domain::model::Org;
use lifeboat_domain::service::identity;

use super::{ApiAdmin, ApiError, Items};
use super::error::ErrorResponses;
use crate::startup::AppState;

/// `GET /orgs`: the organizations the caller administers.
#[utoipa::path(
    get,
    path = "/orgs",
    tag = "Organizations",
    responses((status = 200, description = "OK", body = Items<Org>), ErrorResponses)
)]
pub async fn list_orgs(ApiAdmin(admin): ApiAdmin) -> Json<Items<Org>> {
    Json(Items::from(admin.orgs))
}

/// `GET /orgs/{orgId}`: one organization; another organization's id answers 404.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}",
    tag = "Organizations",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Org), ErrorResponses)
)]
pub async fn get_org(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    Path(org_id): Path<String>,
) -> Result<Json<Org>, ApiError> {
    identity::require_org_admin(&state.backend.db, &admin.admin_id, &org_id).await?;
    let org = admin.orgs.into_iter().find(|o| o.org_id == org_id).ok_or_else(|| ApiError::not_found("ORG_NOT_FOUND", "no such organization"))?;
    Ok(Json(org))
}
