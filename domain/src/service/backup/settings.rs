//! The backup engine's settings (the `[backup]` table of the configuration file). Durations are
//! human-readable (`"14d"`, `"30m"`, `"2s"`) so that tests can use seconds.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

const GB: u64 = 1_000_000_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSettings {
    /// How long a backup in managed storage is kept (the vendor: 14 days).
    #[serde(with = "humantime_serde")]
    pub managed_retention: Duration,
    /// How long a backup in an external storage is kept (30 days).
    #[serde(with = "humantime_serde")]
    pub external_retention: Duration,
    /// A policy may run a manual backup only this long after its last COMPLETE one (0 = no limit;
    /// the vendor's early-access value was 7 days). Scheduled runs follow their schedule.
    #[serde(with = "humantime_serde")]
    pub min_interval: Duration,
    /// The same backup may be restored again only this long after its last restore (the vendor: 7 days).
    #[serde(with = "humantime_serde")]
    pub restore_min_interval: Duration,
    /// A failed scheduled backup is tried again after this delay…
    #[serde(with = "humantime_serde")]
    pub retry_delay: Duration,
    /// …up to this many attempts in all.
    pub retry_attempts: u32,
    pub limits: SizeLimits,
    /// Regions offered for S3 storages (`POST /storages/regions`).
    pub regions: Vec<String>,
    /// Directories under which filesystem storages may be created (default: `<data_dir>/external-storage`).
    pub filesystem_roots: Vec<PathBuf>,
    /// The endpoints `aws` storages may name (`endpoint`), each a scheme, host and port such as
    /// `https://minio.internal:9000`; empty: any. The server sends requests wherever an
    /// organization admin's endpoint points (`storage::check_endpoint`).
    pub s3_endpoints: Vec<String>,
    pub managed_storage: ManagedStorage,
    /// Unreferenced blobs younger than this are kept (a backup running elsewhere may be about to refer to them).
    #[serde(with = "humantime_serde")]
    pub gc_grace: Duration,
    /// How often the scheduler looks for due policies and retries.
    #[serde(with = "humantime_serde")]
    pub scheduler_tick: Duration,
    /// How often expired backups are swept and garbage collected.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    pub jobs: JobSettings,
    /// The key that seals storages' credentials (default: `<data_dir>/server.key`, created at first start).
    pub key_file: Option<PathBuf>,
}

/// Size limits per product, in bytes (defaults: the vendor's managed storage).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizeLimits {
    pub jira_data: u64,
    pub jira_attachments: u64,
    pub confluence_data: u64,
    pub confluence_attachments: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Jobs (backups, restores, exports, imports) run at once by this server; 0 runs none (they stay
    /// queued, holding their app, until it is raised or they are cancelled: a maintenance pause).
    pub concurrency: usize,
    /// A running job's lease; a job whose lease runs out (its process died) is recovered.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// How often the runner looks for queued jobs it was not told of (jobs queued by this server
    /// wake it at once), and for expired leases.
    #[serde(with = "humantime_serde")]
    pub poll: Duration,
}

/// Where managed storage lives.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ManagedStorage {
    /// A directory (default: `<data_dir>/managed-storage`).
    Filesystem {
        // Skipped when unset so that a `type = "s3"` table merged over the default carries no `path`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    S3 {
        bucket: String,
        region: String,
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        access_key_id: Option<String>,
        #[serde(default)]
        secret_access_key: Option<String>,
    },
}

impl std::fmt::Debug for ManagedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManagedStorage::Filesystem { path } => f.debug_struct("Filesystem").field("path", path).finish(),
            ManagedStorage::S3 { bucket, region, endpoint, prefix, .. } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .field("prefix", prefix)
                .finish_non_exhaustive(),
        }
    }
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            managed_retention: Duration::from_secs(14 * 86_400),
            external_retention: Duration::from_secs(30 * 86_400),
            min_interval: Duration::ZERO,
            restore_min_interval: Duration::from_secs(7 * 86_400),
            retry_delay: Duration::from_secs(30 * 60),
            retry_attempts: 3,
            limits: SizeLimits::default(),
            regions: ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
                .map(str::to_owned)
                .to_vec(),
            filesystem_roots: Vec::new(),
            s3_endpoints: Vec::new(),
            managed_storage: ManagedStorage::Filesystem { path: None },
            gc_grace: Duration::from_secs(3600),
            scheduler_tick: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(60),
            jobs: JobSettings::default(),
            key_file: None,
        }
    }
}

impl Default for SizeLimits {
    fn default() -> Self {
        SizeLimits { jira_data: 40 * GB, jira_attachments: 500 * GB, confluence_data: 30 * GB, confluence_attachments: 800 * GB }
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            concurrency: 2,
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(5),
            poll: Duration::from_millis(500),
        }
    }
}

impl SizeLimits {
    /// (data, attachments) limits of a product.
    pub fn of(&self, product: crate::model::Product) -> (u64, u64) {
        match product {
            crate::model::Product::Jira => (self.jira_data, self.jira_attachments),
            crate::model::Product::Confluence => (self.confluence_data, self.confluence_attachments),
        }
    }
}
