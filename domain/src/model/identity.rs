use serde::{Deserialize, Serialize};

/// An organization as the API and the dashboard show it (`{"orgId", "name"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub org_id: String,
    pub name: String,
}

/// The signed-in administrator, as the dashboard header needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignedInAdmin {
    pub admin_id: String,
    pub email: String,
    /// Organizations this admin administers, by name.
    pub orgs: Vec<Org>,
}

/// An API token's public description; the secret itself is only ever shown once, at creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenInfo {
    pub token_id: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The two apps a site can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Product {
    Jira,
    Confluence,
}

impl Product {
    pub const ALL: [Product; 2] = [Product::Jira, Product::Confluence];

    pub fn as_str(self) -> &'static str {
        match self {
            Product::Jira => "JIRA",
            Product::Confluence => "CONFLUENCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "JIRA" => Some(Product::Jira),
            "CONFLUENCE" => Some(Product::Confluence),
            _ => None,
        }
    }
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
