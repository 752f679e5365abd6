//! Sites, apps and the organization's directory as the API and the dashboard show them (SPEC §5.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Product;

/// Defines a wire enum with its SCREAMING text form, `as_str`, a case-insensitive `parse` and `Display`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case($text) { return Some($name::$variant); })+
                None
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written by hand, not derived: the derive does not see the `serde(rename)` of variants made
        // by this macro and would document `Active` where the wire says `ACTIVE`.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// A site's or an app's plan, in increasing order (the restore license check compares them).
    Plan { Free = "FREE", Standard = "STANDARD", Premium = "PREMIUM", Enterprise = "ENTERPRISE" }
}

wire_enum! {
    AppState { Active = "ACTIVE", Deactivated = "DEACTIVATED" }
}

wire_enum! {
    /// A group's role on an app.
    Role { User = "USER", Admin = "ADMIN" }
}

wire_enum! {
    /// A stored grant's state: `PendingReview` (after a restore) grants nothing until approved.
    AccessState { Active = "ACTIVE", PendingReview = "PENDING_REVIEW", Denied = "DENIED" }
}

wire_enum! {
    /// An access review's status as the review list shows it.
    ReviewStatus { PendingReview = "PENDING_REVIEW", Approved = "APPROVED", Denied = "DENIED" }
}

impl From<AccessState> for ReviewStatus {
    fn from(s: AccessState) -> Self {
        match s {
            AccessState::Active => ReviewStatus::Approved,
            AccessState::PendingReview => ReviewStatus::PendingReview,
            AccessState::Denied => ReviewStatus::Denied,
        }
    }
}

/// An admin's decision on a pending access review (`POST .../access-reviews/{id}/{approve|deny}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    Approve,
    Deny,
}

impl ReviewDecision {
    /// The decision a request names: the path's last segment on the REST API, the dashboard's
    /// button value. Exact, as a path is.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(ReviewDecision::Approve),
            "deny" => Some(ReviewDecision::Deny),
            _ => None,
        }
    }
}

/// `POST /orgs/{orgId}/sites`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewSite {
    pub name: String,
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default = "default_plan")]
    pub plan: Plan,
    #[serde(default = "default_shard")]
    pub shard: String,
    #[serde(default)]
    pub free_trial: bool,
}

fn default_plan() -> Plan {
    Plan::Standard
}

/// The shard a site is placed on when the request does not name one.
pub const DEFAULT_SHARD: &str = "shard-1";

fn default_shard() -> String {
    DEFAULT_SHARD.to_owned()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub cloud_id: String,
    pub name: String,
    pub plan: Plan,
    pub shard: String,
    pub free_trial: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub apps: Vec<App>,
}

/// An app of a site (`GET .../cloud/{cloudId}/apps`). `counts` holds the entity counts by kind
/// (Jira: projects, issues, comments, attachments; Confluence: spaces, pages, comments, attachments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub cloud_id: String,
    pub product: Product,
    pub state: AppState,
    /// Jira: any project; Confluence: any space other than the personal space made with the app, or
    /// any page or attachment in that one.
    pub contains_data: bool,
    pub shard: String,
    pub plan: Plan,
    /// True while a backup or restore runs on the app (always false until jobs exist).
    pub busy: bool,
    pub counts: BTreeMap<String, u64>,
    pub deactivated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A directory user (`{"accountId", "email", "displayName", "active"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub email: String,
    /// Defaults to the email's local part.
    #[serde(default)]
    pub display_name: String,
}

/// A group with its members' emails (sorted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: String,
    pub name: String,
    pub custom: bool,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewGroup {
    pub name: String,
    /// Members by email; every one must be a user of the organization.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default = "yes")]
    pub custom: bool,
}

fn yes() -> bool {
    true
}

/// `PUT .../apps/{product}/access`: grant a group (by name) a role on the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessGrantRequest {
    pub group: String,
    pub role: Role,
}

/// A stored grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessGrant {
    pub access_id: String,
    pub group: String,
    pub group_id: String,
    pub cloud_id: String,
    pub product: Product,
    pub role: Role,
    pub state: AccessState,
}

/// An item of `GET /orgs/{orgId}/access-reviews`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessReview {
    pub review_id: String,
    pub group: String,
    pub cloud_id: String,
    pub product: Product,
    pub role: Role,
    pub status: ReviewStatus,
}

/// One page of a list. `nextOffset` is the offset to ask for next, absent at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// `?limit=&offset=` of a list request (limit defaults to 50, at most 500; see `rules::paging`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u64>,
}

/// The digest of one app's content (`GET .../apps/{product}/digest`); see `docs/digest.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub product: Product,
    pub counts: BTreeMap<String, u64>,
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_and_serialize() {
        assert_eq!(Plan::parse("premium"), Some(Plan::Premium));
        assert!(Plan::Free < Plan::Enterprise);
        assert_eq!(AccessState::parse("PENDING_REVIEW"), Some(AccessState::PendingReview));
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"ADMIN\"");
        assert_eq!(ReviewDecision::parse("deny"), Some(ReviewDecision::Deny));
        assert_eq!(ReviewDecision::parse("approve"), Some(ReviewDecision::Approve));
        assert_eq!(ReviewDecision::parse("Deny"), None);
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn new_site_defaults() {
        let s: NewSite = serde_json::from_str(r#"{"name":"acme","products":["JIRA"]}"#).unwrap();
        assert_eq!((s.plan, s.shard.as_str(), s.free_trial), (Plan::Standard, DEFAULT_SHARD, false));
        let g: NewGroup = serde_json::from_str(r#"{"name":"devs"}"#).unwrap();
        assert!(g.custom && g.members.is_empty());
        let p = Paged { items: vec![1], total: 1, offset: 0, limit: 50, next_offset: None };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"items":[1],"total":1,"offset":0,"limit":50}"#);
    }
}
