use std::time::Duration;

use lifeboat_domain::service::identity;
use lifeboat_server::config::Config;
use lifeboat_server::startup::Application;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::redirect::Policy;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A pool of the tests' own on the server's database.
    pub db: lifeboat_domain::store::Db,
    /// The server's own pool.
    pub server_db: lifeboat_domain::store::Db,
    pub org_id: String,
    pub email: String,
    /// An API token of the admin, for `/api/v1`.
    pub token: String,
    /// The server's data directory (database, blobs, managed storage).
    pub data_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts a server with its own temporary data directory and one admin (`admin@acme.test`, org Acme).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        // Tests poll and load data faster than the API's default rates allow; the rate-limit tests
        // set their own.
        api_limits: lifeboat_server::config::ApiLimitConfig {
            restores_per_user: 10_000,
            creates_per_org: 10_000,
            policy_updates_per_org: 10_000,
            reads_per_org: 100_000,
            other_writes_per_org: 100_000,
            window: Duration::from_secs(60),
        },
        ..Config::default()
    };
    tweak(&mut config);
    let url = config.database_url();
    let app = Application::build(config).await.expect("server builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server_db = app.db();
    tokio::spawn(app.run_until_stopped());

    let db = lifeboat_domain::store::connect(&url).await.unwrap();
    let created = identity::create_admin(&db, "admin@acme.test", "Acme", PASSWORD, true).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = identity::create_token(&db, &created.email, "tests").await.unwrap().1;
    let data_dir = dir.path().to_path_buf();
    TestApp { base, client, db, server_db, org_id: created.org.org_id, email: created.email, token, data_dir, _dir: dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Posts the sign-in form as a browser on this origin would.
    pub async fn post_login(&self, email: &str, password: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/login"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", password), ("next", "")]);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Signs in and returns the `name=value` session cookie.
    pub async fn sign_in(&self) -> String {
        let res = self.post_login(&self.email, PASSWORD, None).await;
        assert_eq!(res.status(), 303, "sign-in redirects");
        session_cookie(res.headers()).expect("a session cookie is set")
    }

    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client.get(self.url(path)).header("cookie", cookie).send().await.unwrap()
    }
}

/// The full `Set-Cookie` line of the session cookie.
pub fn session_set_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lifeboat_session=") || v.starts_with("__Host-lifeboat_session="))
        .map(str::to_owned)
}

/// `name=value` of the session cookie, as a client sends it back.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    session_set_cookie(headers).map(|line| line.split(';').next().unwrap_or_default().to_owned())
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

impl TestApp {
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.api_as(method, path, &self.email, &self.token)
    }

    /// An API request as another account (its email and API token).
    pub fn api_as(&self, method: reqwest::Method, path: &str, email: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(&format!("/api/v1{path}"))).basic_auth(email, Some(token))
    }

    /// GET an API path as another account; the status and the JSON body (Null when not JSON).
    pub async fn get_json_as(&self, path: &str, email: &str, token: &str) -> (u16, serde_json::Value) {
        let res = self.api_as(reqwest::Method::GET, path, email, token).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET an API path; returns the status and the JSON body (Null when the body is not JSON).
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.api(reqwest::Method::GET, path).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self.api(reqwest::Method::POST, path).json(&body).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn put_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self.api(reqwest::Method::PUT, path).json(&body).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Creates a site with both apps and returns its cloudId.
    pub async fn create_site(&self, name: &str) -> String {
        let (status, site) = self
            .post_json(
                &format!("/orgs/{}/sites", self.org_id),
                serde_json::json!({"name": name, "products": ["JIRA", "CONFLUENCE"], "plan": "PREMIUM", "shard": "eu-1"}),
            )
            .await;
        assert_eq!(status, 201, "{site}");
        site["cloudId"].as_str().unwrap().to_owned()
    }

    pub fn site_path(&self, cloud_id: &str) -> String {
        format!("/orgs/{}/cloud/{cloud_id}", self.org_id)
    }
}

impl TestApp {
    /// Seeds a site of this org (created when missing) with generated content; returns its cloudId.
    pub async fn seed_site(&self, name: &str, tweak: impl FnOnce(&mut lifeboat_domain::service::seed::SeedOptions)) -> String {
        let mut opts = lifeboat_domain::service::seed::SeedOptions {
            org: "Acme".into(),
            site: name.into(),
            ..Default::default()
        };
        tweak(&mut opts);
        let blobs = lifeboat_domain::blobs::BlobStore::new(self.data_dir.join("blobs"));
        lifeboat_domain::service::seed::seed(&self.db, &blobs, &opts, &|_| {}).await.expect("seed").cloud_id
    }

    /// Creates a policy and returns its id.
    pub async fn create_policy(&self, cloud_id: &str, body: serde_json::Value) -> String {
        let (status, policy) = self.post_json(&format!("{}/policies", self.site_path(cloud_id)), body).await;
        assert_eq!(status, 201, "{policy}");
        policy["policyId"].as_str().unwrap().to_owned()
    }

    /// Starts a backup of a policy (202) and returns its id.
    pub async fn start_backup(&self, policy_id: &str) -> String {
        let (status, backup) =
            self.post_json(&format!("/orgs/{}/backups", self.org_id), serde_json::json!({"policyId": policy_id})).await;
        assert_eq!(status, 202, "{backup}");
        assert_eq!(backup["status"], "IN_PROGRESS");
        backup["backupId"].as_str().unwrap().to_owned()
    }

    pub async fn backup(&self, backup_id: &str) -> serde_json::Value {
        let (status, b) = self.get_json(&format!("/orgs/{}/backups/{backup_id}", self.org_id)).await;
        assert_eq!(status, 200, "{b}");
        b
    }

    /// Polls a backup until `done` holds (at most `secs` seconds).
    pub async fn wait_backup(&self, backup_id: &str, secs: u64, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let b = self.backup(backup_id).await;
            if done(&b) {
                return b;
            }
            assert!(std::time::Instant::now() < deadline, "backup never reached the expected state: {b}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls a backup until it is no longer IN_PROGRESS.
    pub async fn finished_backup(&self, backup_id: &str) -> serde_json::Value {
        self.wait_backup(backup_id, 60, |b| b["status"] != "IN_PROGRESS").await
    }

    /// Polls any GET path until `done` holds.
    pub async fn wait_json(&self, path: &str, secs: u64, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (status, v) = self.get_json(path).await;
            assert_eq!(status, 200, "{v}");
            if done(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "{path} never reached the expected state: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Test timings: fast job polling, scheduler and sweeper ticks.
pub fn quick_jobs(config: &mut Config) {
    config.backup.jobs.poll = Duration::from_millis(50);
    config.backup.jobs.heartbeat = Duration::from_millis(200);
    config.backup.scheduler_tick = Duration::from_millis(100);
    config.backup.sweep_interval = Duration::from_millis(200);
}

/// Files in a directory tree (0 when it does not exist).
pub fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 })
        .sum()
}

/// A server (jobs polled quickly) whose filesystem storages may live under a fresh temporary
/// directory: the app, that directory (keep it alive as long as the app), and its path.
pub async fn spawn_app_with_storage_root() -> (TestApp, tempfile::TempDir, std::path::PathBuf) {
    let roots = tempfile::tempdir().unwrap();
    let root = roots.path().to_path_buf();
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.backup.filesystem_roots = vec![root.clone()];
    })
    .await;
    (app, roots, root)
}
