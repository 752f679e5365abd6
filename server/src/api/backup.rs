//! Storages, policies, backups, exports and imports (SPEC §5.1). Asynchronous work answers 202
//! with the created object(s).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use lifeboat_domain::model::{
    Backup, Export, ExportFilter, Import, NewBackup, NewPolicy, NewStorage, PageRequest, Paged, Policy, PolicyUpdate,
    Regions, Storage, StorageFilter, TransferRequest,
};
use lifeboat_domain::service::backup::{self as svc, run, transfer};

use super::extract::{JsonBody, QueryParams};
use super::{ApiAdmin, ApiError, Items};
use super::error::ErrorResponses;
use crate::startup::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// The regions an S3 storage may be created in.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/storages/regions",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Regions), ErrorResponses)
)]
pub async fn regions(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Regions> {
    Ok(Json(svc::regions(&s.backend, &a.admin_id, &org).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/storages",
    tag = "Backups, storages, policies, exports and imports",
    request_body = NewStorage,
    params(("org_id" = String, Path)),
    responses((status = 201, description = "created", body = Storage), ErrorResponses)
)]
pub async fn create_storage(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewStorage>,
) -> Created<Storage> {
    Ok((StatusCode::CREATED, Json(svc::create_storage(&s.backend, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/storages",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), StorageFilter),
    responses((status = 200, description = "OK", body = Items<Storage>), ErrorResponses)
)]
pub async fn list_storages(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<StorageFilter>,
) -> ApiResult<Items<Storage>> {
    Ok(Json(Items::from(svc::list_storages(&s.backend, &a.admin_id, &org, filter).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/storages/{storage_id}",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("storage_id" = String, Path)),
    responses((status = 200, description = "OK", body = Storage), ErrorResponses)
)]
pub async fn get_storage(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Storage> {
    Ok(Json(svc::get_storage(&s.backend, &a.admin_id, &org, &id).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/policies",
    tag = "Backups, storages, policies, exports and imports",
    request_body = NewPolicy,
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 201, description = "created", body = Policy), ErrorResponses)
)]
pub async fn create_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewPolicy>,
) -> Created<Policy> {
    Ok((StatusCode::CREATED, Json(svc::create_policy(&s.backend, &a.admin_id, &org, &cloud, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/policies",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Items<Policy>), ErrorResponses)
)]
pub async fn list_policies(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Policy>> {
    Ok(Json(Items::from(svc::list_policies(&s.backend, &a.admin_id, &org).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/policies/{policy_id}",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("policy_id" = String, Path)),
    responses((status = 200, description = "OK", body = Policy), ErrorResponses)
)]
pub async fn get_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Policy> {
    Ok(Json(svc::get_policy(&s.backend, &a.admin_id, &org, &id).await?))
}

#[utoipa::path(
    put,
    path = "/orgs/{org_id}/policies/{policy_id}",
    tag = "Backups, storages, policies, exports and imports",
    request_body = PolicyUpdate,
    params(("org_id" = String, Path), ("policy_id" = String, Path)),
    responses((status = 200, description = "OK", body = Policy), ErrorResponses)
)]
pub async fn update_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<PolicyUpdate>,
) -> ApiResult<Policy> {
    Ok(Json(svc::update_policy(&s.backend, &a.admin_id, &org, &id, body).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/backups",
    tag = "Backups, storages, policies, exports and imports",
    request_body = NewBackup,
    params(("org_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Backup), ErrorResponses)
)]
pub async fn create_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewBackup>,
) -> Created<Backup> {
    Ok((StatusCode::ACCEPTED, Json(run::create_backup(&s.backend, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/policies/{policy_id}/backups",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("policy_id" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Backup>), ErrorResponses)
)]
pub async fn list_backups(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, policy)): Path<(String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<Backup>> {
    Ok(Json(run::list_backups(&s.backend, &a.admin_id, &org, &policy, page).await?))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/backups/{backup_id}",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("backup_id" = String, Path)),
    responses((status = 200, description = "OK", body = Backup), ErrorResponses)
)]
pub async fn get_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Backup> {
    Ok(Json(run::get_backup(&s.backend, &a.admin_id, &org, &id).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/backups/{backup_id}/cancel",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("backup_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Backup), ErrorResponses)
)]
pub async fn cancel_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> Created<Backup> {
    Ok((StatusCode::ACCEPTED, Json(run::cancel_backup(&s.backend, &a.admin_id, &org, &id).await?)))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/exports",
    tag = "Backups, storages, policies, exports and imports",
    request_body = Vec<TransferRequest>,
    params(("org_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Vec<Export>), ErrorResponses)
)]
pub async fn create_exports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Vec<TransferRequest>>,
) -> Created<Vec<Export>> {
    Ok((StatusCode::ACCEPTED, Json(transfer::create_exports(&s.backend, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/exports",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ExportFilter),
    responses((status = 200, description = "OK", body = Items<Export>), ErrorResponses)
)]
pub async fn list_exports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<ExportFilter>,
) -> ApiResult<Items<Export>> {
    Ok(Json(Items::from(transfer::list_exports(&s.backend, &a.admin_id, &org, filter).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/exports/{export_id}",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("export_id" = String, Path)),
    responses((status = 200, description = "OK", body = Export), ErrorResponses)
)]
pub async fn get_export(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, id)): Path<(String, String, String)>,
) -> ApiResult<Export> {
    Ok(Json(transfer::get_export(&s.backend, &a.admin_id, &org, &cloud, &id).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/imports",
    tag = "Backups, storages, policies, exports and imports",
    request_body = Vec<TransferRequest>,
    params(("org_id" = String, Path)),
    responses((status = 202, description = "accepted; the work goes on in the background", body = Vec<Import>), ErrorResponses)
)]
pub async fn create_imports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Vec<TransferRequest>>,
) -> Created<Vec<Import>> {
    Ok((StatusCode::ACCEPTED, Json(transfer::create_imports(&s.backend, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/imports",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Items<Import>), ErrorResponses)
)]
pub async fn list_imports(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Import>> {
    Ok(Json(Items::from(transfer::list_imports(&s.backend, &a.admin_id, &org).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/imports/{import_id}",
    tag = "Backups, storages, policies, exports and imports",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("import_id" = String, Path)),
    responses((status = 200, description = "OK", body = Import), ErrorResponses)
)]
pub async fn get_import(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, id)): Path<(String, String, String)>,
) -> ApiResult<Import> {
    Ok(Json(transfer::get_import(&s.backend, &a.admin_id, &org, &cloud, &id).await?))
}
