//! The records of the entity parts, one JSON object per line. Ids are the source's internal ids:
//! they tie records together inside one archive (an issue to its project, a page to its parent)
//! and a restore gives every entity a new id. People are referred to by email.

use serde::{Deserialize, Serialize};

use crate::model::Product;

/// The part kinds, in the order a backup writes them (parents before children) and a restore reads them.
pub const JIRA_KINDS: &[&str] = &[PROJECTS, ISSUES, ISSUE_COMMENTS, ATTACHMENTS];
pub const CONFLUENCE_KINDS: &[&str] = &[SPACES, PAGES, PAGE_COMMENTS, ATTACHMENTS];
pub const DIRECTORY_KINDS: &[&str] = &[USERS, GROUPS, MEMBERSHIPS, ACCESS];

pub const PROJECTS: &str = "projects";
pub const ISSUES: &str = "issues";
pub const ISSUE_COMMENTS: &str = "issue_comments";
pub const SPACES: &str = "spaces";
pub const PAGES: &str = "pages";
pub const PAGE_COMMENTS: &str = "page_comments";
pub const ATTACHMENTS: &str = "attachments";
pub const USERS: &str = "users";
pub const GROUPS: &str = "groups";
pub const MEMBERSHIPS: &str = "memberships";
pub const ACCESS: &str = "access";

/// True for a kind this format version knows.
pub fn is_known_kind(kind: &str) -> bool {
    JIRA_KINDS.contains(&kind) || CONFLUENCE_KINDS.contains(&kind) || DIRECTORY_KINDS.contains(&kind)
}

/// An app's own kinds, in order (the directory's are `DIRECTORY_KINDS`).
pub fn app_kinds(product: Product) -> &'static [&'static str] {
    match product {
        Product::Jira => JIRA_KINDS,
        Product::Confluence => CONFLUENCE_KINDS,
    }
}

/// True for a kind an archive of `product` (`JIRA` or `CONFLUENCE`) may hold: its app's kinds and
/// the directory's. A Jira backup holding pages would otherwise be restored into the site's
/// Confluence app, which the restore neither locked nor checked.
pub fn is_kind_of(product: &str, kind: &str) -> bool {
    Product::parse(product).is_some_and(|p| app_kinds(p).contains(&kind) || DIRECTORY_KINDS.contains(&kind))
}

/// True for the directory's kinds (their bytes count as `usersSize`).
pub fn is_directory_kind(kind: &str) -> bool {
    DIRECTORY_KINDS.contains(&kind)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRecord {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub next_issue_number: i64,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueRecord {
    pub id: String,
    pub project_id: String,
    pub number: i64,
    pub summary: String,
    pub description: String,
    pub status: String,
    pub reporter_email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A comment on an issue (`issue_comments`) or a page (`page_comments`): `parentId` is the issue's
/// or the page's id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentRecord {
    pub id: String,
    pub parent_id: String,
    pub author_email: Option<String>,
    pub body: String,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceRecord {
    pub id: String,
    pub key: String,
    pub name: String,
    /// `global` or `personal`.
    pub space_type: String,
    pub owner_email: Option<String>,
    pub created_with_app: bool,
    pub created_at: String,
}

/// Pages come parents first (by depth), so a reader can create them in one pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageRecord {
    pub id: String,
    pub space_id: String,
    pub parent_id: Option<String>,
    pub title: String,
    pub body: String,
    pub version: i64,
    pub position: i64,
    pub author_email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The ids a restore's validation plans an issue with, read from an `IssueRecord`'s line. Its other
/// fields are skipped, not decoded (no text is copied): the restore's job decodes every record whole,
/// and a record that does not decode fails the restore with the destination unchanged.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueIds {
    pub id: String,
    pub project_id: String,
}

/// The ids validation plans a page with, read from a `PageRecord`'s line (see `IssueIds`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageIds {
    pub id: String,
    pub space_id: String,
    pub parent_id: Option<String>,
}

/// The id validation plans a comment with, read from a `CommentRecord`'s line (see `IssueIds`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentIds {
    pub parent_id: String,
}

/// `bytesIncluded` is false when the backup was taken without attachments, or when the bytes could
/// not be read (`missingReason` says why; the backup is then INCOMPLETE).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRecord {
    pub id: String,
    /// The issue's or the page's id.
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub author_email: Option<String>,
    pub created_at: String,
    pub bytes_included: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub email: String,
    pub display_name: String,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub name: String,
    pub custom: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRecord {
    pub group: String,
    pub email: String,
}

/// A group's role on the backed-up app (its state at backup time is informative only: a restore
/// always brings access back as PENDING_REVIEW).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    pub group: String,
    pub role: String,
    pub state: String,
}
