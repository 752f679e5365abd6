//! Crash recovery: the real `lifeboat` binary is killed (SIGKILL) in the middle of a backup or a
//! restore and started again; the backup or restore ends (FAILED, "interrupted") instead of staying
//! IN_PROGRESS forever (nor VALIDATING, left by an earlier version), and the app can be backed up
//! again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lifeboat_domain::service::identity;
use serde_json::{json, Value};

use crate::helpers::PASSWORD;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .arg("serve")
        .env("LIFEBOAT_DATA_DIR", data_dir)
        .env("LIFEBOAT_LISTEN", "127.0.0.1:0")
        .env("LIFEBOAT_LOG", "warn")
        .env("LIFEBOAT_BACKUP__JOBS__POLL", "50ms")
        // The test polls faster than the API's default 100 reads a minute.
        .env("LIFEBOAT_API_LIMITS__READS_PER_ORG", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the lifeboat binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    Server { child, base }
}


/// A data directory with an admin (`ops@acme.test`, org Acme), an API token and a Jira site "Big"
/// of `issues` issues (and, with `empty_site`, a site "Empty" with no content), written before any
/// server starts.
struct Fixture {
    dir: tempfile::TempDir,
    org: String,
    token: String,
    source: String,
    empty: Option<String>,
    client: reqwest::Client,
}

impl Fixture {
    async fn new(issues: u64, empty_site: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = identity::open_database(&lifeboat_domain::store::default_url(dir.path())).await.unwrap();
        let admin = identity::create_admin(&db, "ops@acme.test", "Acme", PASSWORD, true).await.unwrap();
        let token = identity::create_token(&db, &admin.email, "t").await.unwrap().1;
        let blobs = lifeboat_domain::blobs::BlobStore::new(dir.path().join("blobs"));
        let opts = lifeboat_domain::service::seed::SeedOptions {
            org: "Acme".into(),
            site: "Big".into(),
            jira_projects: 2,
            issues,
            comments: 0,
            attachments: 0,
            pages: 0,
            ..Default::default()
        };
        let source = lifeboat_domain::service::seed::seed(&db, &blobs, &opts, &|_| {}).await.unwrap().cloud_id;
        let empty = if empty_site {
            let none = lifeboat_domain::service::seed::SeedOptions {
                site: "Empty".into(),
                jira_projects: 0,
                issues: 0,
                spaces: 0,
                ..opts.clone()
            };
            Some(lifeboat_domain::service::seed::seed(&db, &blobs, &none, &|_| {}).await.unwrap().cloud_id)
        } else {
            None
        };
        db.close().await;
        Fixture { dir, org: admin.org.org_id, token, source, empty, client: reqwest::Client::new() }
    }

    fn call(&self, server: &Server, m: reqwest::Method, path: String) -> reqwest::RequestBuilder {
        self.client.request(m, format!("{}/api/v1{path}", server.base)).basic_auth("ops@acme.test", Some(self.token.clone()))
    }

    async fn get(&self, server: &Server, path: String) -> Value {
        self.call(server, reqwest::Method::GET, path).send().await.unwrap().json().await.unwrap()
    }

    /// GETs `path` every `every` until `done` holds for the answer, and returns that answer; fails
    /// with `what` and the last answer once `secs` have passed.
    async fn poll(&self, server: &Server, path: String, secs: u64, every: Duration, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let answer = self.get(server, path.clone()).await;
            if done(&answer) {
                return answer;
            }
            assert!(Instant::now() < deadline, "{what}: {answer}");
            tokio::time::sleep(every).await;
        }
    }
}

#[tokio::test]
async fn a_backup_interrupted_by_a_killed_server_ends_failed_after_restart() {
    let fx = Fixture::new(150_000, false).await;
    let (org, cloud, dir) = (fx.org.clone(), fx.source.clone(), fx.dir.path());
    let call = |server: &Server, m: reqwest::Method, path: String| fx.call(server, m, path);

    let server = start(dir);
    let res = call(&server, reqwest::Method::POST, format!("/orgs/{org}/cloud/{cloud}/policies"))
        .json(&json!({"product": "JIRA"}))
        .send()
        .await
        .unwrap();
    let policy: Value = res.json().await.unwrap();
    let policy_id = policy["policyId"].as_str().unwrap().to_owned();
    let res = call(&server, reqwest::Method::POST, format!("/orgs/{org}/backups")).json(&json!({"policyId": policy_id})).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let backup: Value = res.json().await.unwrap();
    let id = backup["backupId"].as_str().unwrap().to_owned();

    let started = fx
        .poll(&server, format!("/orgs/{org}/backups/{id}"), 30, Duration::from_millis(50), "the backup never started", |b| {
            b["progress"]["itemsDone"].as_u64().unwrap_or(0) > 0
        })
        .await;
    assert_eq!(started["status"], "IN_PROGRESS", "killed while running");
    drop(server); // SIGKILL: no graceful shutdown, the job stays RUNNING in the database

    let server = start(dir);
    let every = Duration::from_millis(100);
    let ended = fx
        .poll(&server, format!("/orgs/{org}/backups/{id}"), 30, every, "the interrupted backup stayed IN_PROGRESS", |b| {
            b["status"] != "IN_PROGRESS"
        })
        .await;
    assert_eq!(ended["status"], "FAILED", "{ended}");
    assert_eq!(ended["statusCode"], "INTERRUPTED");

    // The app's lock was released: a new backup runs to completion.
    let res = call(&server, reqwest::Method::POST, format!("/orgs/{org}/backups")).json(&json!({"policyId": policy_id})).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let again: Value = res.json().await.unwrap();
    let again_id = again["backupId"].as_str().unwrap().to_owned();
    let b = fx
        .poll(&server, format!("/orgs/{org}/backups/{again_id}"), 60, every, "the new backup did not finish", |b| b["status"] != "IN_PROGRESS")
        .await;
    assert_eq!(b["status"], "COMPLETE", "{b}");
    assert_eq!(b["counts"]["issues"], 150_000);
}

#[tokio::test]
async fn a_restore_interrupted_by_a_killed_server_leaves_the_destination_unchanged() {
    let fx = Fixture::new(200_000, true).await;
    let (org, source, dir) = (fx.org.clone(), fx.source.clone(), fx.dir.path());
    let dest = fx.empty.clone().unwrap();
    let call = |server: &Server, m: reqwest::Method, path: String| fx.call(server, m, path);
    let every = Duration::from_millis(100);

    let server = start(dir);
    let policy: Value = call(&server, reqwest::Method::POST, format!("/orgs/{org}/cloud/{source}/policies"))
        .json(&json!({"product": "JIRA", "includeUsersAndGroups": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let backup: Value = call(&server, reqwest::Method::POST, format!("/orgs/{org}/backups"))
        .json(&json!({"policyId": policy["policyId"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let backup_id = backup["backupId"].as_str().unwrap().to_owned();
    fx.poll(&server, format!("/orgs/{org}/backups/{backup_id}"), 60, every, "backup did not complete", |b| b["status"] == "COMPLETE").await;
    let before = fx.get(&server, format!("/orgs/{org}/cloud/{dest}/apps/JIRA/digest")).await;
    let r: Value = call(&server, reqwest::Method::POST, format!("/orgs/{org}/cloud/{dest}/restores"))
        .json(&json!({"backupId": backup_id, "product": "JIRA", "includeUsersAndGroups": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["restoreId"].as_str().unwrap().to_owned();
    let consents: Vec<String> = r["checks"].as_array().unwrap().iter().filter(|c| c["result"] == "WARNING").map(|c| c["consent"].as_str().unwrap().to_owned()).collect();
    if r["status"] == "AWAITING_CONSENT" {
        call(&server, reqwest::Method::POST, format!("/orgs/{org}/cloud/{dest}/restores/revalidate"))
            .json(&json!({"restoreId": id, "consent": consents}))
            .send()
            .await
            .unwrap();
    }
    // Kill it once the write transaction has begun (the second half of the progress) and written
    // its first part. (This also catches a create whose answer waited for the whole restore: its
    // first look then found it COMPLETE.)
    fx.poll(&server, format!("/orgs/{org}/restores/{id}"), 60, Duration::from_millis(5), "the restore never got going", |r| {
        assert_eq!(r["status"], "IN_PROGRESS", "killed while running: {r}");
        r["progress"]["percent"].as_u64().unwrap_or(0) > 50
    })
    .await;
    drop(server);

    let server = start(dir);
    let ended = fx
        .poll(&server, format!("/orgs/{org}/restores/{id}"), 30, every, "the interrupted restore stayed IN_PROGRESS", |r| {
            r["status"] != "IN_PROGRESS"
        })
        .await;
    assert_eq!(ended["status"], "FAILED", "{ended}");
    assert_eq!(ended["statusCode"], "INTERRUPTED");
    let after = fx.get(&server, format!("/orgs/{org}/cloud/{dest}/apps/JIRA/digest")).await;
    assert_eq!(after, before, "nothing of the interrupted restore was committed");

    // A restore left VALIDATING — what an earlier version, stopped while a request validated it,
    // left (a restore is now stored once validated); it has no job — ends FAILED at the next start
    // instead of staying VALIDATING forever.
    drop(server);
    let validating = "01900000-0000-7000-8000-00000000a11d";
    let db = identity::open_database(&lifeboat_domain::store::default_url(dir)).await.unwrap();
    sqlx::query(
        "INSERT INTO restores (restore_id, org_id, backup_id, cloud_id, product, status, include_attachments,
             include_users_and_groups, include_personal_spaces, created_at, created_by)
         VALUES (?, ?, ?, ?, 'JIRA', 'VALIDATING', 0, 0, 0, 0, 'ops@acme.test')",
    )
    .bind(validating)
    .bind(&org)
    .bind(&backup_id)
    .bind(&dest)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
    let server = start(dir);
    let ended = fx
        .poll(&server, format!("/orgs/{org}/restores/{validating}"), 30, every, "the interrupted validation stayed VALIDATING", |r| {
            r["status"] != "VALIDATING"
        })
        .await;
    assert_eq!((ended["status"].as_str(), ended["statusCode"].as_str()), (Some("FAILED"), Some("INTERRUPTED")), "{ended}");
}
