//! Configuration: one TOML file plus `LIFEBOAT_*` environment overrides; every value has a default so
//! the server starts with no file at all (SQLite and managed storage under the data directory).
//!
//! Nested keys are overridden with a double underscore: `LIFEBOAT_SESSION__IDLE_TIMEOUT=10m`.
//! Durations are human-readable (`"30m"`, `"14d"`, `"2s"`), so tests can use seconds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use lifeboat_domain::service::backup::BackupSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the database, managed storage and blobs live unless configured elsewhere.
    pub data_dir: PathBuf,
    /// `sqlite://...` (default: `<data_dir>/lifeboat.db`).
    pub database_url: Option<String>,
    /// The URL admins use to reach the dashboard. When it is `https://`, cookies are `Secure` and
    /// `__Host-` prefixed and HSTS is sent; its origin is also accepted for state-changing requests.
    pub public_url: Option<String>,
    /// Create a demo organization and admin at start when none exist.
    pub demo: bool,
    /// Password of the demo admin (default: a random one, printed at start).
    pub demo_password: Option<String>,
    /// Where the compiled dashboard assets are (`pkg/`, favicon). cargo-leptos builds them into `target/site`.
    pub site_root: PathBuf,
    /// Largest attachment an upload may carry, in bytes; larger uploads answer 413.
    pub attachment_max_size: u64,
    pub session: SessionConfig,
    pub login_limit: LoginLimitConfig,
    /// Request rates of the REST API (`[api_limits]`), as the vendor documents them.
    pub api_limits: ApiLimitConfig,
    /// The backup engine: retention, limits, schedules, jobs, managed storage (`[backup]`).
    pub backup: BackupSettings,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax (`RUST_LOG` wins when set).
    pub log: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// A session not used for this long ends.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    #[serde(with = "humantime_serde")]
    pub absolute_timeout: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimitConfig {
    /// Failed sign-ins allowed per account within `window` before further attempts get 429.
    pub per_account: u32,
    /// Failed sign-ins allowed per client address within `window`.
    pub per_address: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

/// Requests allowed per `window` on the REST API; beyond them 429 with `Retry-After`. Counted per
/// server instance, in memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiLimitConfig {
    /// Create restore and revalidate, per user.
    pub restores_per_user: u32,
    /// Create storage, policy, export or import, per organization and operation.
    pub creates_per_org: u32,
    /// Update a policy, per organization.
    pub policy_updates_per_org: u32,
    /// Every GET, per organization.
    pub reads_per_org: u32,
    /// Every other state-changing request (sites, directory, content, cancel, reviews), per
    /// organization: not in the vendor's table; generous, so bulk loading through the API works.
    pub other_writes_per_org: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

impl Default for ApiLimitConfig {
    fn default() -> Self {
        ApiLimitConfig {
            restores_per_user: 5,
            creates_per_org: 10,
            policy_updates_per_org: 10,
            reads_per_org: 100,
            other_writes_per_org: 1000,
            window: Duration::from_secs(60),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:3000".parse().expect("valid default address"),
            data_dir: PathBuf::from("lifeboat-data"),
            database_url: None,
            public_url: None,
            demo: false,
            demo_password: None,
            site_root: PathBuf::from("target/site"),
            attachment_max_size: 256 * 1024 * 1024,
            session: SessionConfig::default(),
            login_limit: LoginLimitConfig::default(),
            api_limits: ApiLimitConfig::default(),
            backup: BackupSettings::default(),
            log: "info,sqlx=warn,tower_sessions=warn".to_owned(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle_timeout: Duration::from_secs(30 * 60), absolute_timeout: Duration::from_secs(12 * 3600) }
    }
}

impl Default for LoginLimitConfig {
    fn default() -> Self {
        LoginLimitConfig { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

impl Config {
    /// Defaults, then the file (`--config` or `LIFEBOAT_CONFIG`, when given), then `LIFEBOAT_*`.
    /// `LEPTOS_SITE_ROOT` (set by cargo-leptos) is honoured for `site_root` below `LIFEBOAT_SITE_ROOT`.
    pub fn load(file: Option<&Path>) -> Result<Config, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
            figment = figment.merge(Serialized::default("site_root", root));
        }
        let file = file.map(Path::to_path_buf).or_else(|| std::env::var_os("LIFEBOAT_CONFIG").map(PathBuf::from));
        if let Some(file) = file {
            if !file.exists() {
                return Err(figment::Error::from(format!("config file {} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("LIFEBOAT_").ignore(&["CONFIG"]).split("__"));
        figment.extract()
    }

    /// Where attachment bytes live, content-addressed by SHA-256.
    pub fn blobs_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// The backup settings with the data directory's defaults filled in: filesystem storages under
    /// `<data_dir>/external-storage`, managed storage in `<data_dir>/managed-storage`, the server key
    /// in `<data_dir>/server.key`.
    pub fn backup_settings(&self) -> BackupSettings {
        use lifeboat_domain::service::backup::ManagedStorage;
        let mut s = self.backup.clone();
        if s.filesystem_roots.is_empty() {
            s.filesystem_roots.push(self.data_dir.join("external-storage"));
        }
        if let ManagedStorage::Filesystem { path: path @ None } = &mut s.managed_storage {
            *path = Some(self.data_dir.join("managed-storage"));
        }
        if s.key_file.is_none() {
            s.key_file = Some(self.data_dir.join("server.key"));
        }
        s
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| lifeboat_domain::store::default_url(&self.data_dir))
    }

    /// True when the dashboard is served over TLS (directly or behind a TLS-terminating proxy).
    pub fn served_over_tls(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_and_environment_layer_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lifeboat.toml",
                r#"
                    listen = "0.0.0.0:8080"
                    data_dir = "/var/lib/lifeboat"
                    [session]
                    idle_timeout = "5m"
                "#,
            )?;
            jail.set_env("LIFEBOAT_SESSION__ABSOLUTE_TIMEOUT", "2s");
            jail.set_env("LIFEBOAT_LISTEN", "127.0.0.1:0");
            jail.set_env("LIFEBOAT_BACKUP__MANAGED_RETENTION", "5s");
            let config = Config::load(Some(Path::new("lifeboat.toml")))?;
            assert_eq!(config.listen.port(), 0, "environment beats the file");
            assert_eq!(config.data_dir, PathBuf::from("/var/lib/lifeboat"));
            assert_eq!(config.session.idle_timeout, Duration::from_secs(300));
            assert_eq!(config.session.absolute_timeout, Duration::from_secs(2));
            assert_eq!(config.login_limit.per_account, 5, "untouched values keep their default");
            assert_eq!(config.backup.managed_retention, Duration::from_secs(5), "nested backup settings");
            assert_eq!(config.database_url(), "sqlite:///var/lib/lifeboat/lifeboat.db");
            Ok(())
        });
    }

    #[test]
    fn managed_storage_can_be_an_s3_bucket() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "s3.toml",
                r#"
                    [backup.managed_storage]
                    type = "s3"
                    bucket = "lifeboat-managed"
                    region = "eu-west-1"
                    endpoint = "http://127.0.0.1:9000"
                "#,
            )?;
            let config = Config::load(Some(Path::new("s3.toml")))?;
            match config.backup_settings().managed_storage {
                lifeboat_domain::service::backup::ManagedStorage::S3 { bucket, .. } => assert_eq!(bucket, "lifeboat-managed"),
                other => panic!("{other:?}"),
            }
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "lisen = \"127.0.0.1:1\"")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }
}
