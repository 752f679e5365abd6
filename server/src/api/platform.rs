//! Sites, apps, directory, app access and access reviews (SPEC §5.2).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use lifeboat_domain::model::{
    AccessGrant, AccessGrantRequest, AccessReview, App, Digest, Group, NewGroup, NewSite, NewUser, PageRequest, Paged,
    Product, ReviewDecision, Site, User,
};
use lifeboat_domain::service::{digest, platform};

use super::extract::{JsonBody, QueryParams};
use super::{ApiAdmin, ApiError, Items};
use crate::startup::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A product in a path: an unknown one is "no such app" (404), like any other unknown path.
pub fn product(segment: &str) -> Result<Product, ApiError> {
    Product::parse(segment).ok_or_else(|| ApiError::not_found("APP_NOT_FOUND", format!("no app {segment:?}")))
}

pub async fn list_sites(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Site>> {
    Ok(Json(Items::from(platform::list_sites(&s.backend.db, &a.admin_id, &org).await?)))
}

pub async fn create_site(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let site = platform::create_site(&s.backend.db, &a.admin_id, &org, body).await?;
    Ok((StatusCode::CREATED, Json(site)))
}

pub async fn list_apps(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
) -> ApiResult<Items<App>> {
    Ok(Json(Items::from(platform::list_apps(&s.backend.db, &a.admin_id, &org, &cloud).await?)))
}

pub async fn list_users(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<User>> {
    Ok(Json(platform::list_users(&s.backend.db, &a.admin_id, &org, page).await?))
}

pub async fn create_user(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(platform::create_user(&s.backend.db, &a.admin_id, &org, body).await?)))
}

pub async fn list_groups(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<Group>> {
    Ok(Json(platform::list_groups(&s.backend.db, &a.admin_id, &org, page).await?))
}

pub async fn create_group(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    Ok((StatusCode::CREATED, Json(platform::create_group(&s.backend.db, &a.admin_id, &org, body).await?)))
}

pub async fn grant_access(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<AccessGrantRequest>,
) -> ApiResult<AccessGrant> {
    let product = product(&prod)?;
    Ok(Json(platform::grant_access(&s.backend.db, &a.admin_id, &org, &cloud, product, body).await?))
}

pub async fn list_access(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
) -> ApiResult<Items<AccessGrant>> {
    let product = product(&prod)?;
    Ok(Json(Items::from(platform::list_access(&s.backend.db, &a.admin_id, &org, &cloud, product).await?)))
}

pub async fn list_access_reviews(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
) -> ApiResult<Items<AccessReview>> {
    Ok(Json(Items::from(platform::list_access_reviews(&s.backend.db, &a.admin_id, &org).await?)))
}

pub async fn decide_access_review(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, review, decision)): Path<(String, String, String)>,
) -> ApiResult<AccessReview> {
    let decision = match decision.as_str() {
        "approve" => ReviewDecision::Approve,
        "deny" => ReviewDecision::Deny,
        _ => return Err(ApiError::not_found("NOT_FOUND", "no such API endpoint")),
    };
    Ok(Json(platform::decide_access_review(&s.backend.db, &a.admin_id, &org, &review, decision).await?))
}

pub async fn app_digest(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
) -> ApiResult<Digest> {
    let product = product(&prod)?;
    Ok(Json(digest::digest(&s.backend.db, &a.admin_id, &org, &cloud, product).await?))
}
