//! Restores, revalidation with consents, and the post-operation report (SPEC §5.1).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use lifeboat_domain::model::{NewRestore, PostOpReport, Restore, RestoreFilter, Revalidate};
use lifeboat_domain::service::restore as svc;

use super::extract::{JsonBody, QueryParams};
use super::{ApiAdmin, ApiError, Items};
use super::error::ErrorResponses;
use crate::startup::AppState;

/// Starts a restore into this (destination) site: refusals, then checks and the plan.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/restores",
    tag = "Restores",
    request_body = NewRestore,
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Restore), ErrorResponses)
)]
pub async fn create_restore(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewRestore>,
) -> Result<(StatusCode, Json<Restore>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(svc::create_restore(&s.backend, &a.admin_id, &org, &cloud, body).await?)))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/restores/revalidate",
    tag = "Restores",
    request_body = Revalidate,
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Restore), ErrorResponses)
)]
pub async fn revalidate(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<Revalidate>,
) -> Result<(StatusCode, Json<Restore>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(svc::revalidate(&s.backend, &a.admin_id, &org, &cloud, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/restores",
    tag = "Restores",
    params(("org_id" = String, Path), RestoreFilter),
    responses((status = 200, description = "OK", body = Items<Restore>), ErrorResponses)
)]
pub async fn list_restores(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<RestoreFilter>,
) -> Result<Json<Items<Restore>>, ApiError> {
    Ok(Json(Items::from(svc::list_restores(&s.backend, &a.admin_id, &org, filter).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/restores/{restore_id}",
    tag = "Restores",
    params(("org_id" = String, Path), ("restore_id" = String, Path)),
    responses((status = 200, description = "OK", body = Restore), ErrorResponses)
)]
pub async fn get_restore(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> Result<Json<Restore>, ApiError> {
    Ok(Json(svc::get_restore(&s.backend, &a.admin_id, &org, &id).await?))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/migration/{migration_id}/postOpReport",
    tag = "Restores",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("migration_id" = String, Path)),
    responses((status = 200, description = "OK", body = PostOpReport), ErrorResponses)
)]
pub async fn post_op_report(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, migration)): Path<(String, String, String)>,
) -> Result<Json<PostOpReport>, ApiError> {
    Ok(Json(svc::post_op_report(&s.backend, &a.admin_id, &org, &cloud, &migration).await?))
}
