//! Jira and Confluence content, and attachments (SPEC §5.2). Attachment bytes stream both ways:
//! memory does not grow with the size of a file.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lifeboat_domain::model::{Attachment, Issue, NewIssue, NewPage, NewProject, NewSpace, Page, PageRequest, Paged, Project, Space};
use lifeboat_domain::service::content::{self, UploadMeta};
use serde::Deserialize;

use super::extract::{JsonBody, QueryParams};
use super::{ApiAdmin, ApiError};
use super::error::ErrorResponses;
use crate::startup::AppState;

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// Jira projects of a site (paged).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/projects",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Project>), ErrorResponses)
)]
pub async fn list_projects(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Paged<Project>>, ApiError> {
    Ok(Json(content::list_projects(&s.backend.db, &a.admin_id, &org, &cloud, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/projects",
    tag = "Content",
    request_body = NewProject,
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 201, description = "created", body = Project), ErrorResponses)
)]
pub async fn create_project(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewProject>,
) -> Created<Project> {
    Ok((StatusCode::CREATED, Json(content::create_project(&s.backend.db, &a.admin_id, &org, &cloud, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/projects/{key}/issues",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("key" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Issue>), ErrorResponses)
)]
pub async fn list_issues(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Paged<Issue>>, ApiError> {
    Ok(Json(content::list_issues(&s.backend.db, &a.admin_id, &org, &cloud, &key, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/projects/{key}/issues",
    tag = "Content",
    request_body = NewIssue,
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("key" = String, Path)),
    responses((status = 201, description = "created", body = Issue), ErrorResponses)
)]
pub async fn create_issue(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<NewIssue>,
) -> Created<Issue> {
    Ok((StatusCode::CREATED, Json(content::create_issue(&s.backend.db, &a.admin_id, &org, &cloud, &key, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/issues/{issue_key}",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("issue_key" = String, Path)),
    responses((status = 200, description = "OK", body = Issue), ErrorResponses)
)]
pub async fn get_issue(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
) -> Result<Json<Issue>, ApiError> {
    Ok(Json(content::get_issue(&s.backend.db, &a.admin_id, &org, &cloud, &key).await?))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/spaces",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Space>), ErrorResponses)
)]
pub async fn list_spaces(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Paged<Space>>, ApiError> {
    Ok(Json(content::list_spaces(&s.backend.db, &a.admin_id, &org, &cloud, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/spaces",
    tag = "Content",
    request_body = NewSpace,
    params(("org_id" = String, Path), ("cloud_id" = String, Path)),
    responses((status = 201, description = "created", body = Space), ErrorResponses)
)]
pub async fn create_space(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewSpace>,
) -> Created<Space> {
    Ok((StatusCode::CREATED, Json(content::create_space(&s.backend.db, &a.admin_id, &org, &cloud, body).await?)))
}

#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/spaces/{key}",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("key" = String, Path)),
    responses((status = 204, description = "done"), ErrorResponses)
)]
pub async fn delete_space(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    content::delete_space(&s.backend.db, &a.admin_id, &org, &cloud, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/spaces/{key}/pages",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("key" = String, Path), PageRequest),
    responses((status = 200, description = "OK", body = Paged<Page>), ErrorResponses)
)]
pub async fn list_pages(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Paged<Page>>, ApiError> {
    Ok(Json(content::list_pages(&s.backend.db, &a.admin_id, &org, &cloud, &key, page).await?))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/spaces/{key}/pages",
    tag = "Content",
    request_body = NewPage,
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("key" = String, Path)),
    responses((status = 201, description = "created", body = Page), ErrorResponses)
)]
pub async fn create_page(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, key)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<NewPage>,
) -> Created<Page> {
    Ok((StatusCode::CREATED, Json(content::create_page(&s.backend.db, &a.admin_id, &org, &cloud, &key, body).await?)))
}

#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/pages/{page_id}",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("page_id" = String, Path)),
    responses((status = 200, description = "OK", body = Page), ErrorResponses)
)]
pub async fn get_page(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, page_id)): Path<(String, String, String)>,
) -> Result<Json<Page>, ApiError> {
    Ok(Json(content::get_page(&s.backend.db, &a.admin_id, &org, &cloud, &page_id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The attachment's file name.
    filename: String,
}

/// A file's bytes.
// Only documents the body, which the handlers stream (hence never built): `Vec<u8>` alone would
// read as an array of integers.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

fn upload_meta(s: &AppState, query: UploadQuery, headers: &HeaderMap) -> Result<UploadMeta, ApiError> {
    let max_size = s.config.attachment_max_size;
    // Refuse at once when the client announces a body over the limit; the stream is checked too.
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_size) {
        return Err(too_large(max_size));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(UploadMeta { filename: query.filename, content_type, max_size })
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "ATTACHMENT_TOO_LARGE", format!("attachments may be at most {max} bytes"))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/jira/issues/{issue_key}/attachments",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("issue_key" = String, Path), UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream", description = "the attachment's bytes"),
    responses((status = 201, description = "created", body = Attachment), ErrorResponses)
)]
pub async fn upload_issue_attachment(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, issue_key)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Created<Attachment> {
    let meta = upload_meta(&s, query, &headers)?;
    let b = &s.backend;
    let att = content::upload_issue_attachment(&b.db, &b.blobs, &a.admin_id, &org, &cloud, &issue_key, meta, body.into_data_stream())
        .await?;
    Ok((StatusCode::CREATED, Json(att)))
}

#[utoipa::path(
    post,
    path = "/orgs/{org_id}/cloud/{cloud_id}/confluence/pages/{page_id}/attachments",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("page_id" = String, Path), UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream", description = "the attachment's bytes"),
    responses((status = 201, description = "created", body = Attachment), ErrorResponses)
)]
pub async fn upload_page_attachment(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, page_id)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Created<Attachment> {
    let meta = upload_meta(&s, query, &headers)?;
    let b = &s.backend;
    let att = content::upload_page_attachment(&b.db, &b.blobs, &a.admin_id, &org, &cloud, &page_id, meta, body.into_data_stream())
        .await?;
    Ok((StatusCode::CREATED, Json(att)))
}

/// The bytes back, streamed from the blob store. Always a download (`Content-Disposition:
/// attachment`, sandboxed), so an uploaded HTML file can never run as this site's page.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/cloud/{cloud_id}/attachments/{attachment_id}",
    tag = "Content",
    params(("org_id" = String, Path), ("cloud_id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, description = "the bytes, with the attachment's content type", content_type = "*/*", body = FileBytes), ErrorResponses)
)]
pub async fn download_attachment(
    State(s): State<AppState>,
    ApiAdmin(a): ApiAdmin,
    Path((org, cloud, attachment_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let b = &s.backend;
    let dl = content::attachment_download(&b.db, &b.blobs, &a.admin_id, &org, &cloud, &attachment_id).await?;
    let file = tokio::fs::File::open(&dl.path).await.map_err(|e| {
        tracing::error!(error = %e, attachment = %attachment_id, "attachment blob unreadable");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "BLOB_UNREADABLE", "the attachment's bytes could not be read")
    })?;
    let att = dl.attachment;
    let content_type = HeaderValue::from_str(&att.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let ascii_name: String =
        att.filename.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii_name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_LENGTH, HeaderValue::from(att.size)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'")),
            (header::ETAG, HeaderValue::from_str(&format!("\"{}\"", att.sha256)).unwrap_or(HeaderValue::from_static("\"\""))),
        ],
        body,
    )
        .into_response())
}
