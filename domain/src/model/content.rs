//! Jira and Confluence content as the content API shows it (SPEC §5.2). People are emails.

use serde::{Deserialize, Serialize};

use super::platform::wire_enum;

/// `POST .../jira/projects`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewProject {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub project_id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A comment to add with an issue or a page (`{"body"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewComment {
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub comment_id: String,
    /// The author's email (None when unknown).
    pub author: Option<String>,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// `POST .../jira/projects/{key}/issues`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewIssue {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    /// Defaults to "To Do".
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub comments: Vec<NewComment>,
}

/// The status a new issue gets when the request names none.
pub const DEFAULT_ISSUE_STATUS: &str = "To Do";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub issue_id: String,
    /// `KEY-N`, N numbered from 1 per project.
    pub issue_key: String,
    pub project_key: String,
    pub number: u64,
    pub summary: String,
    pub description: String,
    pub status: String,
    /// The reporter's email.
    pub reporter: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub comments: Vec<Comment>,
}

wire_enum! {
    /// Confluence space type; the wire form is lower-case (`"type": "global|personal"`).
    SpaceType { Global = "global", Personal = "personal" }
}

/// `POST .../confluence/spaces`. A personal space needs an owner (a user of the organization, by
/// email; created in the directory when missing) and may omit its key (derived from the email).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewSpace {
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(rename = "type", default = "global")]
    pub space_type: SpaceType,
    #[serde(default)]
    pub owner: Option<String>,
}

fn global() -> SpaceType {
    SpaceType::Global
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Space {
    pub space_id: String,
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub space_type: SpaceType,
    /// The owner's email (personal spaces).
    pub owner: Option<String>,
    /// True for the personal space made for the admin who created the app.
    pub created_with_app: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// `POST .../confluence/spaces/{key}/pages`. `position` orders siblings; by default the page goes last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewPage {
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default)]
    pub comments: Vec<NewComment>,
}

/// A Confluence page (not to be confused with `Paged`, a page of a list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page_id: String,
    pub space_key: String,
    pub parent_id: Option<String>,
    pub title: String,
    pub body: String,
    pub version: u32,
    pub position: u32,
    pub author: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub comments: Vec<Comment>,
}

/// An attachment's metadata (the upload answer and the download headers' source).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub attachment_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// The owner: an issue key (Jira) or a page id (Confluence).
    pub issue_key: Option<String>,
    pub page_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_bodies_parse() {
        let s: NewSpace =
            serde_json::from_str(r#"{"key":"DOC","name":"Docs","type":"personal","owner":"a@b.c"}"#).unwrap();
        assert_eq!(s.space_type, SpaceType::Personal);
        let s: NewSpace = serde_json::from_str(r#"{"key":"DOC","name":"Docs"}"#).unwrap();
        assert_eq!(s.space_type, SpaceType::Global);
        assert_eq!(SpaceType::parse("PERSONAL"), Some(SpaceType::Personal));
        let p: NewPage =
            serde_json::from_str(r#"{"title":"T","body":"B","parentId":null,"comments":[{"body":"c"}]}"#).unwrap();
        assert_eq!(p.comments.len(), 1);
        let i: NewIssue = serde_json::from_str(r#"{"summary":"S","description":"D","comments":[]}"#).unwrap();
        assert!(i.status.is_none());
        let json = serde_json::to_value(Space {
            space_id: "s".into(),
            key: "K".into(),
            name: "n".into(),
            space_type: SpaceType::Global,
            owner: None,
            created_with_app: false,
            created_at: chrono::Utc::now(),
        })
        .unwrap();
        assert_eq!(json["type"], "global");
        assert_eq!(json["spaceId"], "s");
    }
}
