//! Restores as the REST API and the dashboard show them (SPEC §2 Restores, §5.1).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::platform::wire_enum;
use super::{Product, Progress};

wire_enum! {
    RestoreStatus {
        Validating = "VALIDATING",
        AwaitingConsent = "AWAITING_CONSENT",
        InProgress = "IN_PROGRESS",
        Complete = "COMPLETE",
        Incomplete = "INCOMPLETE",
        Failed = "FAILED",
    }
}

wire_enum! {
    CheckResult { Pass = "PASS", Warning = "WARNING", Fail = "FAIL" }
}

impl RestoreStatus {
    pub fn label(self) -> &'static str {
        match self {
            RestoreStatus::Validating => "Validating",
            RestoreStatus::AwaitingConsent => "Awaiting consent",
            RestoreStatus::InProgress => "In progress",
            RestoreStatus::Complete => "Complete",
            RestoreStatus::Incomplete => "Incomplete",
            RestoreStatus::Failed => "Failed",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, RestoreStatus::Complete | RestoreStatus::Incomplete | RestoreStatus::Failed)
    }
}

/// `POST /orgs/{orgId}/cloud/{destCloudId}/restores`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRestore {
    pub backup_id: String,
    pub product: Product,
    #[serde(default)]
    pub include_attachments: Option<bool>,
    #[serde(default)]
    pub include_users_and_groups: Option<bool>,
    #[serde(default)]
    pub include_personal_spaces: Option<bool>,
}

/// `POST /orgs/{orgId}/cloud/{destCloudId}/restores/revalidate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Revalidate {
    pub restore_id: String,
    #[serde(default)]
    pub consent: Vec<String>,
}

/// One validation check: `consent` is the name to send in `revalidate` when it warns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub result: CheckResult,
    pub consent: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SkippedItem {
    pub key: String,
    pub reason: String,
}

/// What a restore will do (or did) with one entity kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    pub create: u64,
    pub skip: u64,
    pub merge: u64,
    /// Skipped keys (projects, spaces, groups…) with their reason; at most 1,000 listed.
    pub skipped: Vec<SkippedItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Restore {
    pub restore_id: String,
    pub backup_id: String,
    /// The destination site.
    pub cloud_id: String,
    pub product: Product,
    pub status: RestoreStatus,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
    pub include_attachments: bool,
    pub include_users_and_groups: bool,
    pub include_personal_spaces: bool,
    pub checks: Vec<Check>,
    /// Per entity kind, known once validated (before consent).
    pub plan: BTreeMap<String, PlanEntry>,
    pub consents: Vec<String>,
    pub migration_id: Option<String>,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// `GET /orgs/{orgId}/cloud/{cloudId}/migration/{migrationId}/postOpReport`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PostOpReport {
    pub migration_id: String,
    pub restore_id: String,
    pub backup_id: String,
    pub cloud_id: String,
    pub product: Product,
    pub status: RestoreStatus,
    /// Per entity kind: created, skipped and merged, with the skipped keys and why.
    pub entities: BTreeMap<String, PlanEntry>,
    pub consents: Vec<String>,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub duration_ms: u64,
}

/// Query of `GET /orgs/{orgId}/restores`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct RestoreFilter {
    #[serde(default)]
    pub cloud_id: Option<String>,
    #[serde(default)]
    pub product: Option<Product>,
}
