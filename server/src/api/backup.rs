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
use crate::startup::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

pub async fn regions(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Regions> {
    Ok(Json(svc::regions(&s.backend, &a.admin_id, &org).await?))
}

pub async fn create_storage(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewStorage>,
) -> Created<Storage> {
    Ok((StatusCode::CREATED, Json(svc::create_storage(&s.backend, &a.admin_id, &org, body).await?)))
}

pub async fn list_storages(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<StorageFilter>,
) -> ApiResult<Items<Storage>> {
    Ok(Json(Items::from(svc::list_storages(&s.backend, &a.admin_id, &org, filter).await?)))
}

pub async fn get_storage(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Storage> {
    Ok(Json(svc::get_storage(&s.backend, &a.admin_id, &org, &id).await?))
}

pub async fn create_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewPolicy>,
) -> Created<Policy> {
    Ok((StatusCode::CREATED, Json(svc::create_policy(&s.backend, &a.admin_id, &org, &cloud, body).await?)))
}

pub async fn list_policies(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Policy>> {
    Ok(Json(Items::from(svc::list_policies(&s.backend, &a.admin_id, &org).await?)))
}

pub async fn get_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Policy> {
    Ok(Json(svc::get_policy(&s.backend, &a.admin_id, &org, &id).await?))
}

pub async fn update_policy(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<PolicyUpdate>,
) -> ApiResult<Policy> {
    Ok(Json(svc::update_policy(&s.backend, &a.admin_id, &org, &id, body).await?))
}

pub async fn create_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewBackup>,
) -> Created<Backup> {
    Ok((StatusCode::ACCEPTED, Json(run::create_backup(&s.backend, &a.admin_id, &org, body).await?)))
}

pub async fn list_backups(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, policy)): Path<(String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<Backup>> {
    Ok(Json(run::list_backups(&s.backend, &a.admin_id, &org, &policy, page).await?))
}

pub async fn get_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Backup> {
    Ok(Json(run::get_backup(&s.backend, &a.admin_id, &org, &id).await?))
}

pub async fn cancel_backup(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, id)): Path<(String, String)>,
) -> Created<Backup> {
    Ok((StatusCode::ACCEPTED, Json(run::cancel_backup(&s.backend, &a.admin_id, &org, &id).await?)))
}

pub async fn create_exports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Vec<TransferRequest>>,
) -> Created<Vec<Export>> {
    Ok((StatusCode::ACCEPTED, Json(transfer::create_exports(&s.backend, &a.admin_id, &org, body).await?)))
}

pub async fn list_exports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(filter): QueryParams<ExportFilter>,
) -> ApiResult<Items<Export>> {
    Ok(Json(Items::from(transfer::list_exports(&s.backend, &a.admin_id, &org, filter).await?)))
}

pub async fn get_export(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, id)): Path<(String, String, String)>,
) -> ApiResult<Export> {
    Ok(Json(transfer::get_export(&s.backend, &a.admin_id, &org, &cloud, &id).await?))
}

pub async fn create_imports(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<Vec<TransferRequest>>,
) -> Created<Vec<Import>> {
    Ok((StatusCode::ACCEPTED, Json(transfer::create_imports(&s.backend, &a.admin_id, &org, body).await?)))
}

pub async fn list_imports(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Import>> {
    Ok(Json(Items::from(transfer::list_imports(&s.backend, &a.admin_id, &org).await?)))
}

pub async fn get_import(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, id)): Path<(String, String, String)>,
) -> ApiResult<Import> {
    Ok(Json(transfer::get_import(&s.backend, &a.admin_id, &org, &cloud, &id).await?))
}
