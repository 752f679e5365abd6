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
    pub db: lifeboat_domain::store::Db,
    pub org_id: String,
    pub email: String,
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
        ..Config::default()
    };
    tweak(&mut config);
    let url = config.database_url();
    let app = Application::build(config).await.expect("server builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let db = lifeboat_domain::store::connect(&url).await.unwrap();
    let created = identity::create_admin(&db, "admin@acme.test", "Acme", PASSWORD, true).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp { base, client, db, org_id: created.org.org_id, email: created.email, _dir: dir }
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
