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
use super::error::ErrorResponses;
use crate::startup::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A product in a path: an unknown one is "no such app" (404), like any other unknown path.
pub fn product(segment: &str) -> Result<Product, ApiError> {
    Product::parse(segment).ok_or_else(|| ApiError::not_found("APP_NOT_FOUND", format!("no app {segment:?}")))
}

/// The sites of the organization, with their apps.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/sites",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Items<Site>), ErrorResponses)
)]
pub async fn list_sites(State(s): State<AppState>, ApiAdmin(a): ApiAdmin, Path(org): Path<String>) -> ApiResult<Items<Site>> {
    Ok(Json(Items::from(platform::list_sites(&s.backend.db, &a.admin_id, &org).await?)))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/sites",
    tag = "Sites, directory and access",
    request_body = NewSite,
    params(("org_id" = String, Path)),
    responses((status = 201, description = "created", body = Site), ErrorResponses)
)]
pub async fn create_site(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let site = platform::create_site(&s.backend.db, &a.admin_id, &org, body).await?;
    Ok((StatusCode::CREATED, Json(site)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/apps",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 200, description = "OK", body = Items<App>), ErrorResponses)
)]
pub async fn list_apps(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
) -> ApiResult<Items<App>> {
    Ok(Json(Items::from(platform::list_apps(&s.backend.db, &a.admin_id, &org, &cloud).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/users",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<User>), ErrorResponses)
)]
pub async fn list_users(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<User>> {
    Ok(Json(platform::list_users(&s.backend.db, &a.admin_id, &org, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/users",
    tag = "Sites, directory and access",
    request_body = NewUser,
    params(("org_id" = String, Path)),
    responses((status = 201, description = "created", body = User), ErrorResponses)
)]
pub async fn create_user(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(platform::create_user(&s.backend.db, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/groups",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Group>), ErrorResponses)
)]
pub async fn list_groups(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    QueryParams(page): QueryParams<PageRequest>,
) -> ApiResult<Paged<Group>> {
    Ok(Json(platform::list_groups(&s.backend.db, &a.admin_id, &org, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/groups",
    tag = "Sites, directory and access",
    request_body = NewGroup,
    params(("org_id" = String, Path)),
    responses((status = 201, description = "created", body = Group), ErrorResponses)
)]
pub async fn create_group(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<NewGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    Ok((StatusCode::CREATED, Json(platform::create_group(&s.backend.db, &a.admin_id, &org, body).await?)))
}

#[utoipa::path(
    put,
    path = "/orgs/{org_id}/cloud/{cloud_id}/apps/{product}/access",
    tag = "Sites, directory and access",
    request_body = AccessGrantRequest,
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("product" = String, Path)),
    responses((status = 200, description = "OK", body = AccessGrant), ErrorResponses)
)]
pub async fn grant_access(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<AccessGrantRequest>,
) -> ApiResult<AccessGrant> {
    let product = product(&prod)?;
    Ok(Json(platform::grant_access(&s.backend.db, &a.admin_id, &org, &cloud, product, body).await?))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/apps/{product}/access",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("product" = String, Path)),
    responses((status = 200, description = "OK", body = Items<AccessGrant>), ErrorResponses)
)]
pub async fn list_access(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
) -> ApiResult<Items<AccessGrant>> {
    let product = product(&prod)?;
    Ok(Json(Items::from(platform::list_access(&s.backend.db, &a.admin_id, &org, &cloud, product).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/access-reviews",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path)),
    responses((status = 200, description = "OK", body = Items<AccessReview>), ErrorResponses)
)]
pub async fn list_access_reviews(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path(org): Path<String>,
) -> ApiResult<Items<AccessReview>> {
    Ok(Json(Items::from(platform::list_access_reviews(&s.backend.db, &a.admin_id, &org).await?)))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/access-reviews/{review_id}/{decision}",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), ("review_id" = String, Path), ("decision" = String, Path)),
    responses((status = 200, description = "OK", body = AccessReview), ErrorResponses)
)]
pub async fn decide_access_review(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, review, decision)): Path<(String, String, String)>,
) -> ApiResult<AccessReview> {
    let Some(decision) = ReviewDecision::parse(&decision) else {
        return Err(ApiError::not_found("NOT_FOUND", "no such API endpoint"));
    };
    Ok(Json(platform::decide_access_review(&s.backend.db, &a.admin_id, &org, &review, decision).await?))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/apps/{product}/digest",
    tag = "Sites, directory and access",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("product" = String, Path)),
    responses((status = 200, description = "OK", body = Digest), ErrorResponses)
)]
pub async fn app_digest(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, prod)): Path<(String, String, String)>,
) -> ApiResult<Digest> {
    let product = product(&prod)?;
    Ok(Json(digest::digest(&s.backend.db, &a.admin_id, &org, &cloud, product).await?))
}
