//! Storages, policies, backups, exports and imports as the REST API and the dashboard show them
//! (SPEC §2, §5.1). Field names follow the vendor's API reference.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::platform::wire_enum;
use super::Product;

wire_enum! {
    /// `aws` is any S3-compatible service; `filesystem` a directory on the server.
    StorageType { Aws = "aws", Filesystem = "filesystem" }
}

wire_enum! {
    Interval { Once = "ONCE", Daily = "DAILY", Weekly = "WEEKLY" }
}

wire_enum! {
    DayOfWeek { Mon = "MON", Tue = "TUE", Wed = "WED", Thu = "THU", Fri = "FRI", Sat = "SAT", Sun = "SUN" }
}

wire_enum! {
    /// `INACTIVE` after a `ONCE` schedule has run.
    PolicyStatus { Active = "ACTIVE", Inactive = "INACTIVE" }
}

wire_enum! {
    BackupStatus {
        InProgress = "IN_PROGRESS",
        Complete = "COMPLETE",
        Incomplete = "INCOMPLETE",
        Failed = "FAILED",
        Expired = "EXPIRED",
    }
}

wire_enum! {
    /// How a backup came to be.
    BackupOrigin { Manual = "MANUAL", Scheduled = "SCHEDULED", Import = "IMPORT" }
}

wire_enum! {
    /// Status of an export or an import.
    TransferStatus { InProgress = "IN_PROGRESS", Complete = "COMPLETE", Failed = "FAILED" }
}

impl BackupStatus {
    /// A finished backup whose archive can be restored from.
    pub fn is_restorable(self) -> bool {
        matches!(self, BackupStatus::Complete | BackupStatus::Incomplete)
    }

    /// The label of the dashboard's lozenge.
    pub fn label(self) -> &'static str {
        match self {
            BackupStatus::InProgress => "In progress",
            BackupStatus::Complete => "Complete",
            BackupStatus::Incomplete => "Incomplete",
            BackupStatus::Failed => "Failed",
            BackupStatus::Expired => "Expired",
        }
    }
}

impl TransferStatus {
    pub fn label(self) -> &'static str {
        match self {
            TransferStatus::InProgress => "In progress",
            TransferStatus::Complete => "Complete",
            TransferStatus::Failed => "Failed",
        }
    }
}

/// `POST /orgs/{orgId}/storages` (the vendor's fields, plus this product's `endpoint`, credentials
/// and `path`). Credentials are write-only.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewStorage {
    pub storage_type: String,
    #[serde(default)]
    pub storage_name: String,
    #[serde(default)]
    pub storage_region: Option<String>,
    #[serde(default)]
    pub storage_prefix: Option<String>,
    #[serde(default)]
    pub cloud_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub role_identifier: Option<String>,
    #[serde(default)]
    pub principal_tag: Option<String>,
}

/// An external storage as shown: never its credentials, only whether it has them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    pub storage_id: String,
    pub storage_type: StorageType,
    pub storage_name: String,
    pub storage_region: Option<String>,
    pub storage_prefix: String,
    pub cloud_id: Option<String>,
    pub endpoint: Option<String>,
    pub path: Option<String>,
    pub role_identifier: Option<String>,
    pub principal_tag: Option<String>,
    pub has_credentials: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// `POST /orgs/{orgId}/storages/regions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Regions {
    pub regions: Vec<String>,
}

/// A policy's schedule, times in UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schedule {
    pub interval: Interval,
    /// `HH:MM` (default `00:00`).
    #[serde(default = "midnight")]
    pub time_of_day: String,
    /// Required for `WEEKLY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<DayOfWeek>,
}

fn midnight() -> String {
    "00:00".to_owned()
}

/// `POST /orgs/{orgId}/cloud/{cloudId}/policies`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPolicy {
    pub product: Product,
    #[serde(default)]
    pub storage_id: Option<String>,
    #[serde(default = "yes")]
    pub include_attachments: bool,
    #[serde(default = "yes")]
    pub include_users_and_groups: bool,
    #[serde(default)]
    pub include_personal_spaces: Option<bool>,
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

fn yes() -> bool {
    true
}

/// `PUT /orgs/{orgId}/policies/{policyId}`: only the fields sent change. `schedule: null` removes
/// the schedule; an absent `schedule` keeps it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyUpdate {
    #[serde(default)]
    pub storage_id: Option<String>,
    #[serde(default)]
    pub include_attachments: Option<bool>,
    #[serde(default)]
    pub include_users_and_groups: Option<bool>,
    #[serde(default)]
    pub include_personal_spaces: Option<bool>,
    #[serde(default, with = "double_option")]
    pub schedule: Option<Option<Schedule>>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub policy_id: String,
    pub cloud_id: String,
    pub product: Product,
    /// `None`: managed storage.
    pub storage_id: Option<String>,
    pub include_attachments: bool,
    pub include_users_and_groups: bool,
    /// Confluence only (`None` for Jira).
    pub include_personal_spaces: Option<bool>,
    pub schedule: Option<Schedule>,
    pub status: PolicyStatus,
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_backup_time: Option<DateTime<Utc>>,
}

/// `POST /orgs/{orgId}/backups`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBackup {
    pub policy_id: String,
    #[serde(default)]
    pub cloud_id: Option<String>,
}

/// Sizes in bytes: logical (what the backup holds) and stored (what it added to the storage).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupSize {
    pub data_size: u64,
    pub users_size: u64,
    pub attachments_size: u64,
    pub stored_size: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub percent: u8,
    pub items_done: u64,
    pub items_total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub backup_id: String,
    pub policy_id: Option<String>,
    pub cloud_id: String,
    pub product: Product,
    pub status: BackupStatus,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
    pub origin: BackupOrigin,
    pub imported_from: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub completed_at: Option<DateTime<Utc>>,
    pub expiry_time: DateTime<Utc>,
    /// `None`: managed storage.
    pub storage_id: Option<String>,
    pub include_attachments: bool,
    pub include_users_and_groups: bool,
    pub include_personal_spaces: bool,
    pub backup_size: BackupSize,
    /// Entities in the backup by kind (`issues`, `pages`, `users`...).
    pub counts: BTreeMap<String, u64>,
    /// Attachments whose bytes could not be read (the reason the backup is INCOMPLETE).
    pub missing_attachments: u64,
    pub progress: Progress,
}

/// One item of `POST /orgs/{orgId}/exports` and `POST /orgs/{orgId}/imports`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    pub product: Product,
    pub cloud_id: String,
    pub backup_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub export_id: String,
    pub cloud_id: String,
    pub product: Product,
    pub backup_id: String,
    pub storage_id: String,
    pub status: TransferStatus,
    pub status_message: Option<String>,
    pub copied_bytes: u64,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Import {
    pub import_id: String,
    pub cloud_id: String,
    pub product: Product,
    /// The exported backup's id in the external storage.
    pub backup_id: String,
    pub storage_id: String,
    /// The backup created in managed storage (restorable once the import is COMPLETE).
    pub imported_backup_id: Option<String>,
    pub status: TransferStatus,
    pub status_message: Option<String>,
    pub copied_bytes: u64,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Query of `GET /orgs/{orgId}/storages`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct StorageFilter {
    #[serde(default)]
    pub cloud_id: Option<String>,
    #[serde(default)]
    pub product: Option<Product>,
}

/// Query of `GET /orgs/{orgId}/exports`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ExportFilter {
    #[serde(default)]
    pub product_type: Option<Product>,
}
