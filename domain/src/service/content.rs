//! The content API's use cases: Jira projects, issues and comments; Confluence spaces, pages and
//! comments; attachments (bytes through the blob store, metadata in the database).
//!
//! Every entry point checks org admin, that the site belongs to the org and runs the app, and app
//! admin, in that order; the creator of content is named by the caller's email.

use crate::service::audit::AuditEvent;
use std::collections::HashMap;
use std::path::PathBuf;

use bytes::Bytes;
use chrono::Utc;
use futures_util::Stream;

use super::platform::{
    admin_email, begin, commit, conflict_on_unique, display_name_from_email, org_app, paged, rule_error,
};
use super::ServiceError;
use crate::blobs::{BlobError, BlobStore};
use crate::model::{
    Attachment, Comment, Issue, NewComment, NewIssue, NewPage, NewProject, NewSpace, Page, PageRequest, Paged, Product,
    Project, Space, SpaceType, DEFAULT_ISSUE_STATUS,
};
use crate::rules::content::{
    check_body, check_comment, normalize_filename, normalize_name, normalize_project_key, normalize_space_key,
    personal_space_key, BODY_MAX, NAME_MAX, STATUS_MAX,
};
use crate::rules::credentials::normalize_email;
use crate::rules::paging::{clamp_limit, clamp_offset};
use crate::store::content::{self as q, AttachmentOwner, CommentOn, NewAttachmentRow, NewPageRow};
use crate::store::{platform as pq, Db};

fn check_comments(comments: &[NewComment]) -> Result<(), ServiceError> {
    for c in comments {
        check_comment(&c.body).map_err(rule_error("INVALID_COMMENT"))?;
    }
    Ok(())
}

/// Attaches the comments loaded for a list of issues or pages to their parents.
fn group_comments(rows: Vec<(String, Comment)>) -> HashMap<String, Vec<Comment>> {
    let mut by_parent: HashMap<String, Vec<Comment>> = HashMap::new();
    for (parent, c) in rows {
        by_parent.entry(parent).or_default().push(c);
    }
    by_parent
}

// ---- Jira ----

/// `POST .../jira/projects`.
pub async fn create_project(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewProject,
) -> Result<Project, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "jira.project.create").target(format!("{cloud_id}/{}", req.key));
    let result = create_project_unaudited(db, admin_id, org_id, cloud_id, req).await;
    event.record(db, result, |_| None).await
}

async fn create_project_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewProject,
) -> Result<Project, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let key = normalize_project_key(&req.key).map_err(rule_error("INVALID_PROJECT_KEY"))?;
    let name = normalize_name("project name", &req.name, NAME_MAX).map_err(rule_error("INVALID_PROJECT_NAME"))?;
    check_body("description", &req.description, BODY_MAX).map_err(rule_error("INVALID_DESCRIPTION"))?;
    q::insert_project(db, cloud_id, &key, &name, &req.description)
        .await
        .map_err(conflict_on_unique("PROJECT_EXISTS", format!("a project with the key {key} already exists")))
}

/// `GET .../jira/projects`, by key.
pub async fn list_projects(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    page: PageRequest,
) -> Result<Paged<Project>, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_projects(db, cloud_id).await?;
    Ok(paged(q::list_projects(db, cloud_id, limit, offset).await?, total, offset, limit))
}

async fn project_by_key(db: &Db, cloud_id: &str, raw_key: &str) -> Result<Project, ServiceError> {
    let not_found = || ServiceError::not_found("PROJECT_NOT_FOUND", format!("no project {raw_key:?} on this site"));
    let key = normalize_project_key(raw_key).map_err(|_| not_found())?;
    q::find_project(db, cloud_id, &key).await?.ok_or_else(not_found)
}

/// `POST .../jira/projects/{key}/issues`: the issue gets the project's next number (`KEY-N`); its
/// comments are added in the order given.
pub async fn create_issue(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    project_key: &str,
    req: NewIssue,
) -> Result<Issue, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "jira.issue.create").target(format!("{cloud_id}/{project_key}"));
    let result = create_issue_unaudited(db, admin_id, org_id, cloud_id, project_key, req).await;
    event.record(db, result, |x| Some(format!("{cloud_id}/{}", x.issue_key))).await
}

async fn create_issue_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    project_key: &str,
    req: NewIssue,
) -> Result<Issue, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let project = project_by_key(db, cloud_id, project_key).await?;
    let summary = normalize_name("summary", &req.summary, NAME_MAX).map_err(rule_error("INVALID_SUMMARY"))?;
    check_body("description", &req.description, BODY_MAX).map_err(rule_error("INVALID_DESCRIPTION"))?;
    let status = match req.status.as_deref() {
        None => DEFAULT_ISSUE_STATUS.to_owned(),
        Some(s) => normalize_name("status", s, STATUS_MAX).map_err(rule_error("INVALID_STATUS"))?,
    };
    check_comments(&req.comments)?;
    let reporter = admin_email(db, admin_id).await?;

    let mut tx = begin(db).await?;
    let number = q::take_issue_number(&mut *tx, &project.project_id).await?;
    let now = Utc::now();
    let mut issue =
        q::insert_issue(&mut *tx, &project, number, &summary, &req.description, &status, Some(&reporter), now).await?;
    for c in &req.comments {
        let comment =
            q::insert_comment(&mut *tx, CommentOn::Issue, &issue.issue_id, Some(&reporter), &c.body, Utc::now())
                .await?;
        issue.comments.push(comment);
    }
    commit(tx).await?;
    Ok(issue)
}

/// `GET .../jira/projects/{key}/issues`, by number, with their comments.
pub async fn list_issues(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    project_key: &str,
    page: PageRequest,
) -> Result<Paged<Issue>, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let project = project_by_key(db, cloud_id, project_key).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_issues(db, &project.project_id).await?;
    let mut issues = q::list_issues(db, &project.project_id, limit, offset).await?;
    let ids: Vec<String> = issues.iter().map(|i| i.issue_id.clone()).collect();
    let mut comments = group_comments(q::comments_of(db, CommentOn::Issue, &ids).await?);
    for issue in &mut issues {
        issue.comments = comments.remove(&issue.issue_id).unwrap_or_default();
    }
    Ok(paged(issues, total, offset, limit))
}

/// Splits `KEY-N`.
fn parse_issue_key(issue_key: &str) -> Option<(String, u64)> {
    let (key, number) = issue_key.trim().rsplit_once('-')?;
    let key = normalize_project_key(key).ok()?;
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    Some((key, number))
}

async fn issue_by_key(db: &Db, cloud_id: &str, issue_key: &str) -> Result<Issue, ServiceError> {
    let not_found = || ServiceError::not_found("ISSUE_NOT_FOUND", format!("no issue {issue_key:?} on this site"));
    let (key, number) = parse_issue_key(issue_key).ok_or_else(not_found)?;
    q::find_issue(db, cloud_id, &key, number).await?.ok_or_else(not_found)
}

/// One issue by key, with its comments.
pub async fn get_issue(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    issue_key: &str,
) -> Result<Issue, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let mut issue = issue_by_key(db, cloud_id, issue_key).await?;
    let ids = [issue.issue_id.clone()];
    issue.comments = q::comments_of(db, CommentOn::Issue, &ids).await?.into_iter().map(|(_, c)| c).collect();
    Ok(issue)
}

// ---- Confluence ----

/// `POST .../confluence/spaces`. A personal space's owner (by email) is found or created in the
/// directory; its key may be omitted (derived from the email). Personal spaces may also use a
/// global-style key.
pub async fn create_space(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewSpace,
) -> Result<Space, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "confluence.space.create").target(format!("{cloud_id}/{}", req.key.as_deref().unwrap_or("")));
    let result = create_space_unaudited(db, admin_id, org_id, cloud_id, req).await;
    event.record(db, result, |_| None).await
}

async fn create_space_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    req: NewSpace,
) -> Result<Space, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let name = normalize_name("space name", &req.name, NAME_MAX).map_err(rule_error("INVALID_SPACE_NAME"))?;
    let personal = req.space_type == SpaceType::Personal;
    let owner_email = match (&req.owner, personal) {
        (Some(o), _) if !o.trim().is_empty() => {
            Some(normalize_email(o).map_err(|e| ServiceError::validation("INVALID_EMAIL", e.to_string()))?)
        }
        (_, true) => return Err(ServiceError::validation("OWNER_REQUIRED", "a personal space needs an owner")),
        _ => None,
    };
    let key = match (&req.key, &owner_email) {
        (Some(k), _) if !k.trim().is_empty() => {
            normalize_space_key(k, personal).map_err(rule_error("INVALID_SPACE_KEY"))?
        }
        (_, Some(email)) if personal => personal_space_key(email, 0),
        _ => return Err(ServiceError::validation("INVALID_SPACE_KEY", "a global space needs a key")),
    };

    let mut tx = begin(db).await?;
    let owner = match &owner_email {
        Some(email) => Some(pq::ensure_user(&mut tx, org_id, email, &display_name_from_email(email)).await?),
        None => None,
    };
    let space = q::insert_space(
        &mut *tx,
        cloud_id,
        &key,
        &name,
        req.space_type,
        owner.as_ref().map(|u| u.account_id.as_str()),
        owner.as_ref().map(|u| u.email.as_str()),
        false,
    )
    .await
    .map_err(conflict_on_unique("SPACE_EXISTS", format!("a space with the key {key} already exists")))?;
    commit(tx).await?;
    Ok(space)
}

/// `GET .../confluence/spaces`, by key.
pub async fn list_spaces(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    page: PageRequest,
) -> Result<Paged<Space>, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_spaces(db, cloud_id).await?;
    Ok(paged(q::list_spaces(db, cloud_id, limit, offset).await?, total, offset, limit))
}

async fn space_by_key(db: &Db, cloud_id: &str, raw_key: &str) -> Result<Space, ServiceError> {
    let not_found = || ServiceError::not_found("SPACE_NOT_FOUND", format!("no space {raw_key:?} on this site"));
    let key = normalize_space_key(raw_key, true).map_err(|_| not_found())?;
    q::find_space(db, cloud_id, &key).await?.ok_or_else(not_found)
}

/// Deletes a space with its pages, comments and attachments (e.g. the default personal space, so a
/// restore finds no conflicting space).
pub async fn delete_space(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    space_key: &str,
) -> Result<(), ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "confluence.space.delete").target(format!("{cloud_id}/{space_key}"));
    let result = delete_space_unaudited(db, admin_id, org_id, cloud_id, space_key).await;
    event.record(db, result, |_| None).await
}

async fn delete_space_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    space_key: &str,
) -> Result<(), ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let space = space_by_key(db, cloud_id, space_key).await?;
    q::delete_space(db, &space.space_id).await?;
    Ok(())
}

/// `POST .../confluence/spaces/{key}/pages`: the parent, when given, must be a page of the same
/// space; without a position the page goes after its last sibling.
pub async fn create_page(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    space_key: &str,
    req: NewPage,
) -> Result<Page, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "confluence.page.create").target(format!("{cloud_id}/{space_key}"));
    let result = create_page_unaudited(db, admin_id, org_id, cloud_id, space_key, req).await;
    event.record(db, result, |x| Some(format!("{cloud_id}/{}", x.page_id))).await
}

async fn create_page_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    space_key: &str,
    req: NewPage,
) -> Result<Page, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let space = space_by_key(db, cloud_id, space_key).await?;
    let title = normalize_name("title", &req.title, NAME_MAX).map_err(rule_error("INVALID_TITLE"))?;
    check_body("body", &req.body, BODY_MAX).map_err(rule_error("INVALID_BODY"))?;
    check_comments(&req.comments)?;
    let parent_id = req.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if let Some(parent) = parent_id {
        match q::find_page(db, cloud_id, parent).await? {
            Some((sid, _)) if sid == space.space_id => {}
            _ => return Err(ServiceError::validation("INVALID_PARENT", "the parent must be a page of the same space")),
        }
    }
    let author = admin_email(db, admin_id).await?;

    let mut tx = begin(db).await?;
    let position = match req.position {
        Some(p) => p,
        None => q::next_page_position(&mut *tx, &space.space_id, parent_id).await?,
    };
    let row = NewPageRow {
        space_id: &space.space_id,
        space_key: &space.key,
        parent_id,
        title: &title,
        body: &req.body,
        position,
        author: Some(&author),
    };
    let mut page = q::insert_page(&mut *tx, &row).await?;
    for c in &req.comments {
        let comment =
            q::insert_comment(&mut *tx, CommentOn::Page, &page.page_id, Some(&author), &c.body, Utc::now()).await?;
        page.comments.push(comment);
    }
    commit(tx).await?;
    Ok(page)
}

/// `GET .../confluence/spaces/{key}/pages`: top-level pages first, then children grouped by parent,
/// siblings by position and title; each with its comments.
pub async fn list_pages(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    space_key: &str,
    page: PageRequest,
) -> Result<Paged<Page>, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let space = space_by_key(db, cloud_id, space_key).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_pages(db, &space.space_id).await?;
    let mut pages = q::list_pages(db, &space.space_id, limit, offset).await?;
    let ids: Vec<String> = pages.iter().map(|p| p.page_id.clone()).collect();
    let mut comments = group_comments(q::comments_of(db, CommentOn::Page, &ids).await?);
    for p in &mut pages {
        p.comments = comments.remove(&p.page_id).unwrap_or_default();
    }
    Ok(paged(pages, total, offset, limit))
}

/// One page by id, with its comments.
pub async fn get_page(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    page_id: &str,
) -> Result<Page, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let (_, mut page) = q::find_page(db, cloud_id, page_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("PAGE_NOT_FOUND", "no such page on this site"))?;
    let ids = [page.page_id.clone()];
    page.comments = q::comments_of(db, CommentOn::Page, &ids).await?.into_iter().map(|(_, c)| c).collect();
    Ok(page)
}

// ---- attachments ----

/// The upload's description besides its bytes (`?filename=` and the request's `Content-Type`).
#[derive(Clone, Debug)]
pub struct UploadMeta {
    pub filename: String,
    pub content_type: Option<String>,
    /// Uploads larger than this are refused with `ATTACHMENT_TOO_LARGE` (the HTTP edge answers 413).
    pub max_size: u64,
}

fn blob_error(e: BlobError) -> ServiceError {
    match e {
        BlobError::TooLarge { limit } => ServiceError::too_large(
            "ATTACHMENT_TOO_LARGE",
            format!("the attachment is larger than the limit of {limit} bytes"),
        ),
        BlobError::Source(cause) => {
            ServiceError::validation("UPLOAD_INTERRUPTED", format!("reading the uploaded bytes failed: {cause}"))
        }
        other => ServiceError::Unexpected(other.to_string()),
    }
}

fn content_type_of(raw: Option<&str>) -> Result<String, ServiceError> {
    let ct = raw.map(str::trim).filter(|c| !c.is_empty()).unwrap_or("application/octet-stream");
    if ct.len() > 255 || ct.chars().any(char::is_control) {
        return Err(ServiceError::validation("INVALID_CONTENT_TYPE", "the content type is not valid"));
    }
    Ok(ct.to_owned())
}

#[allow(clippy::too_many_arguments)]
async fn upload<S, E>(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    cloud_id: &str,
    owner: AttachmentOwner,
    meta: UploadMeta,
    body: S,
) -> Result<Attachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let filename = normalize_filename(&meta.filename).map_err(rule_error("INVALID_FILENAME"))?;
    let content_type = content_type_of(meta.content_type.as_deref())?;
    let author = admin_email(db, admin_id).await?;
    let blob = blobs.put_stream(body, meta.max_size).await.map_err(blob_error)?;
    let row = NewAttachmentRow {
        cloud_id,
        owner: &owner,
        filename: &filename,
        content_type: &content_type,
        size: blob.size,
        sha256: &blob.sha256,
        author: Some(&author),
    };
    Ok(q::insert_attachment(db, &row).await?)
}

/// `POST .../jira/issues/{issueKey}/attachments`: the request body streams into the blob store.
#[allow(clippy::too_many_arguments)]
pub async fn upload_issue_attachment<S, E>(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    issue_key: &str,
    meta: UploadMeta,
    body: S,
) -> Result<Attachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let event = AuditEvent::new(admin_id, org_id, "jira.attachment.upload").target(format!("{cloud_id}/{issue_key}"));
    let result = upload_issue_attachment_unaudited(db, blobs, admin_id, org_id, cloud_id, issue_key, meta, body).await;
    event.record(db, result, |x| Some(format!("{cloud_id}/{}", x.attachment_id))).await
}

async fn upload_issue_attachment_unaudited<S, E>(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    issue_key: &str,
    meta: UploadMeta,
    body: S,
) -> Result<Attachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    org_app(db, admin_id, org_id, cloud_id, Product::Jira).await?;
    let issue = issue_by_key(db, cloud_id, issue_key).await?;
    let owner = AttachmentOwner::Issue { issue_id: issue.issue_id, issue_key: issue.issue_key };
    upload(db, blobs, admin_id, cloud_id, owner, meta, body).await
}

/// `POST .../confluence/pages/{pageId}/attachments`.
#[allow(clippy::too_many_arguments)]
pub async fn upload_page_attachment<S, E>(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    page_id: &str,
    meta: UploadMeta,
    body: S,
) -> Result<Attachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let event = AuditEvent::new(admin_id, org_id, "confluence.attachment.upload").target(format!("{cloud_id}/{page_id}"));
    let result = upload_page_attachment_unaudited(db, blobs, admin_id, org_id, cloud_id, page_id, meta, body).await;
    event.record(db, result, |x| Some(format!("{cloud_id}/{}", x.attachment_id))).await
}

async fn upload_page_attachment_unaudited<S, E>(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    page_id: &str,
    meta: UploadMeta,
    body: S,
) -> Result<Attachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    org_app(db, admin_id, org_id, cloud_id, Product::Confluence).await?;
    let (_, page) = q::find_page(db, cloud_id, page_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("PAGE_NOT_FOUND", "no such page on this site"))?;
    upload(db, blobs, admin_id, cloud_id, AttachmentOwner::Page { page_id: page.page_id }, meta, body).await
}

/// What a download needs: the metadata (for headers) and the blob's path (to stream from).
#[derive(Clone, Debug)]
pub struct AttachmentDownload {
    pub attachment: Attachment,
    pub path: PathBuf,
}

/// `GET .../attachments/{attachmentId}`: needs admin of the attachment's app.
pub async fn attachment_download(
    db: &Db,
    blobs: &BlobStore,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    attachment_id: &str,
) -> Result<AttachmentDownload, ServiceError> {
    let not_found = || ServiceError::not_found("ATTACHMENT_NOT_FOUND", "no such attachment on this site");
    super::platform::org_site(db, admin_id, org_id, cloud_id).await?;
    let attachment = q::find_attachment(db, cloud_id, attachment_id).await?.ok_or_else(not_found)?;
    let product = if attachment.issue_key.is_some() { Product::Jira } else { Product::Confluence };
    org_app(db, admin_id, org_id, cloud_id, product).await?;
    let path = blobs.path(&attachment.sha256).map_err(blob_error)?;
    if !blobs.exists(&attachment.sha256).await.map_err(blob_error)? {
        return Err(ServiceError::Unexpected(format!(
            "blob {} of attachment {attachment_id} is missing",
            attachment.sha256
        )));
    }
    Ok(AttachmentDownload { attachment, path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::platform::create_site;
    use crate::service::platform::tests::{new_site, setup};
    use tokio::io::AsyncReadExt;

    fn one_chunk(bytes: &'static [u8]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(vec![Ok(Bytes::from_static(bytes))])
    }

    fn meta(name: &str, max: u64) -> UploadMeta {
        UploadMeta { filename: name.into(), content_type: Some("text/plain".into()), max_size: max }
    }

    #[tokio::test]
    async fn jira_projects_issues_and_attachments() {
        let (dir, db, a) = setup().await;
        let (me, org) = (a.admin_id.as_str(), a.org.org_id.as_str());
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let site = create_site(&db, me, org, new_site("s", &[Product::Jira])).await.unwrap();
        let cloud = site.cloud_id.as_str();
        let np = |key: &str| NewProject { key: key.into(), name: "Ops".into(), description: String::new() };
        let p = create_project(&db, me, org, cloud, np("ops")).await.unwrap();
        assert_eq!(p.key, "OPS");
        assert_eq!(create_project(&db, me, org, cloud, np("OPS")).await.unwrap_err().code(), "PROJECT_EXISTS");
        assert_eq!(create_project(&db, me, org, cloud, np("1X")).await.unwrap_err().code(), "INVALID_PROJECT_KEY");
        for n in 1..=3 {
            let req = NewIssue {
                summary: format!("Issue {n}"),
                description: "d".into(),
                status: None,
                comments: vec![NewComment { body: "first".into() }, NewComment { body: "second".into() }],
            };
            let issue = create_issue(&db, me, org, cloud, "OPS", req).await.unwrap();
            assert_eq!(issue.issue_key, format!("OPS-{n}"));
            assert_eq!(issue.reporter.as_deref(), Some("ops@example.com"));
        }
        let list =
            list_issues(&db, me, org, cloud, "ops", PageRequest { limit: Some(2), offset: Some(1) }).await.unwrap();
        assert_eq!(list.items.iter().map(|i| i.number).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(list.items[0].comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["first", "second"]);
        assert_eq!(list.total, 3);
        assert_eq!(get_issue(&db, me, org, cloud, "OPS-9").await.unwrap_err().code(), "ISSUE_NOT_FOUND");

        let att =
            upload_issue_attachment(&db, &blobs, me, org, cloud, "OPS-2", meta("../notes.txt", 100), one_chunk(b"hi"))
                .await
                .unwrap();
        assert_eq!((att.filename.as_str(), att.size, att.issue_key.as_deref()), ("notes.txt", 2, Some("OPS-2")));
        let too_big =
            upload_issue_attachment(&db, &blobs, me, org, cloud, "OPS-2", meta("x", 1), one_chunk(b"hi")).await;
        assert_eq!(too_big.unwrap_err().code(), "ATTACHMENT_TOO_LARGE");
        let dl = attachment_download(&db, &blobs, me, org, cloud, &att.attachment_id).await.unwrap();
        let mut bytes = Vec::new();
        tokio::fs::File::open(&dl.path).await.unwrap().read_to_end(&mut bytes).await.unwrap();
        assert_eq!(bytes, b"hi");
        assert_eq!(
            attachment_download(&db, &blobs, me, org, cloud, "nope").await.unwrap_err().code(),
            "ATTACHMENT_NOT_FOUND"
        );
    }

    #[tokio::test]
    async fn confluence_spaces_and_page_trees() {
        let (dir, db, a) = setup().await;
        let (me, org) = (a.admin_id.as_str(), a.org.org_id.as_str());
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let site = create_site(&db, me, org, new_site("s", &[Product::Confluence])).await.unwrap();
        let cloud = site.cloud_id.as_str();
        let spaces = list_spaces(&db, me, org, cloud, PageRequest::default()).await.unwrap();
        assert_eq!(spaces.items.len(), 1);
        let default = &spaces.items[0];
        assert_eq!(
            (default.key.as_str(), default.space_type, default.created_with_app),
            ("~ops", SpaceType::Personal, true)
        );

        let ns = |key: &str, ty: SpaceType, owner: Option<&str>| NewSpace {
            key: Some(key.into()),
            name: "Docs".into(),
            space_type: ty,
            owner: owner.map(Into::into),
        };
        let docs = create_space(&db, me, org, cloud, ns("docs", SpaceType::Global, None)).await.unwrap();
        assert_eq!(docs.key, "DOCS");
        let apps = crate::service::platform::list_apps(&db, me, org, cloud).await.unwrap();
        assert!(apps[0].contains_data);
        let eve = create_space(&db, me, org, cloud, ns("", SpaceType::Personal, Some("Eve@x.io"))).await.unwrap();
        assert_eq!((eve.key.as_str(), eve.owner.as_deref()), ("~eve", Some("eve@x.io")));
        assert_eq!(
            create_space(&db, me, org, cloud, ns("DOCS", SpaceType::Global, None)).await.unwrap_err().code(),
            "SPACE_EXISTS"
        );
        assert_eq!(
            create_space(&db, me, org, cloud, ns("", SpaceType::Personal, None)).await.unwrap_err().code(),
            "OWNER_REQUIRED"
        );

        let np = |title: &str, parent: Option<&str>| NewPage {
            title: title.into(),
            body: "b".into(),
            parent_id: parent.map(Into::into),
            position: None,
            comments: vec![NewComment { body: "c".into() }],
        };
        let root = create_page(&db, me, org, cloud, "DOCS", np("Root", None)).await.unwrap();
        let child = create_page(&db, me, org, cloud, "DOCS", np("Child", Some(&root.page_id))).await.unwrap();
        let child2 = create_page(&db, me, org, cloud, "DOCS", np("Child 2", Some(&root.page_id))).await.unwrap();
        assert_eq!((child.position, child2.position), (0, 1));
        assert_eq!(
            create_page(&db, me, org, cloud, "~eve", np("X", Some(&root.page_id))).await.unwrap_err().code(),
            "INVALID_PARENT"
        );
        let pages = list_pages(&db, me, org, cloud, "docs", PageRequest::default()).await.unwrap();
        assert_eq!(pages.items.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["Root", "Child", "Child 2"]);
        assert_eq!(pages.items[1].comments.len(), 1);
        let att =
            upload_page_attachment(&db, &blobs, me, org, cloud, &child.page_id, meta("a.txt", 10), one_chunk(b"x"))
                .await
                .unwrap();
        assert_eq!(att.page_id.as_deref(), Some(child.page_id.as_str()));

        delete_space(&db, me, org, cloud, "DOCS").await.unwrap();
        assert_eq!(get_page(&db, me, org, cloud, &child.page_id).await.unwrap_err().code(), "PAGE_NOT_FOUND");
        assert_eq!(
            attachment_download(&db, &blobs, me, org, cloud, &att.attachment_id).await.unwrap_err().code(),
            "ATTACHMENT_NOT_FOUND"
        );
        delete_space(&db, me, org, cloud, "~ops").await.unwrap();
        assert_eq!(list_spaces(&db, me, org, cloud, PageRequest::default()).await.unwrap().total, 1);
    }
}
