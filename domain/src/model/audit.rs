use serde::{Deserialize, Serialize};

/// One audit-log entry (`GET /orgs/{orgId}/audit`): who did what to which object, when, and how it
/// ended. Failures carry the error code and public message the caller saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub entry_id: String,
    pub org_id: String,
    pub actor_id: String,
    pub actor_email: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub code: Option<String>,
    pub message: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "SUCCESS",
            AuditOutcome::Failure => "FAILURE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SUCCESS" => Some(AuditOutcome::Success),
            "FAILURE" => Some(AuditOutcome::Failure),
            _ => None,
        }
    }
}

/// `?actor=&action=&since=&limit=&offset=`: actor is an email or an admin id, action an exact
/// action name or a prefix ending in `.` (`policy.`), since an RFC 3339 time. Newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u64>,
}
