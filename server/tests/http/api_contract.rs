//! The API as a contract: the OpenAPI document lists every route; an authorization matrix walks every
//! operation of that document with the wrong callers and proves nothing changed; a schema-driven
//! fuzzer sends malformed input to every operation and finds no 5xx; rate limits and the audit log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine;
use lifeboat_domain::service::identity;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Real objects of every kind in org Acme, so every path of the API can be filled with ids that exist.
struct World {
    app: TestApp,
    /// Path parameter values (by the names used in the OpenAPI document).
    ids: BTreeMap<&'static str, String>,
    /// The destination site of the restore (restore routes are called on it).
    dest: String,
    /// The filesystem root external storages live in (removed with the world).
    _roots: tempfile::TempDir,
}

async fn world() -> World {
    let (app, roots, root) = spawn_app_with_storage_root().await;
    let org = app.org_id.clone();
    let src = app
        .seed_site("Source", |o| {
            o.issues = 30;
            o.comments = 20;
            o.pages = 10;
            o.attachments = 2;
            o.attachment_size = 1024;
        })
        .await;
    let site = app.site_path(&src);

    let (s, project) = app.post_json(&format!("{site}/jira/projects"), json!({"key": "MTX", "name": "Matrix"})).await;
    assert_eq!(s, 201, "{project}");
    let (s, issue) = app.post_json(&format!("{site}/jira/projects/MTX/issues"), json!({"summary": "one"})).await;
    assert_eq!(s, 201, "{issue}");
    let issue_key = issue["issueKey"].as_str().unwrap().to_owned();
    let res = app
        .api(Method::POST, &format!("{site}/jira/issues/{issue_key}/attachments?filename=a.txt"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let attachment: Value = res.json().await.unwrap();
    let (s, space) = app.post_json(&format!("{site}/confluence/spaces"), json!({"key": "MTXS", "name": "Matrix", "type": "global"})).await;
    assert_eq!(s, 201, "{space}");
    let (s, page) = app.post_json(&format!("{site}/confluence/spaces/MTXS/pages"), json!({"title": "p", "body": "b"})).await;
    assert_eq!(s, 201, "{page}");

    let (s, storage) = app
        .post_json(
            &format!("/orgs/{org}/storages"),
            json!({"storageType": "filesystem", "storageName": "Ext", "path": root.join("ext"), "cloudId": src}),
        )
        .await;
    assert_eq!(s, 201, "{storage}");
    let storage_id = storage["storageId"].as_str().unwrap().to_owned();
    let policy = app.create_policy(&src, json!({"product": "JIRA", "includeAttachments": true, "includeUsersAndGroups": true})).await;
    app.create_policy(&src, json!({"product": "JIRA", "storageId": storage_id})).await;
    let backup = app.start_backup(&policy).await;
    assert_eq!(app.finished_backup(&backup).await["status"], "COMPLETE");

    let (s, exports) = app.post_json(&format!("/orgs/{org}/exports"), json!([{"product": "JIRA", "cloudId": src, "backupId": backup}])).await;
    assert_eq!(s, 202, "{exports}");
    let export_id = exports[0]["exportId"].as_str().unwrap().to_owned();
    app.wait_json(&format!("{site}/exports/{export_id}"), 60, |e| e["status"] != "IN_PROGRESS").await;
    let (s, imports) = app.post_json(&format!("/orgs/{org}/imports"), json!([{"product": "JIRA", "cloudId": src, "backupId": backup}])).await;
    assert_eq!(s, 202, "{imports}");
    let import_id = imports[0]["importId"].as_str().unwrap().to_owned();
    app.wait_json(&format!("{site}/imports/{import_id}"), 60, |i| i["status"] != "IN_PROGRESS").await;

    // A restore into an empty site, consented to the end, so it has a report and access reviews.
    let (s, d) = app
        .post_json(&format!("/orgs/{org}/sites"), json!({"name": "Dest", "products": ["JIRA", "CONFLUENCE"], "plan": "PREMIUM", "shard": "shard-1"}))
        .await;
    assert_eq!(s, 201, "{d}");
    let dest = d["cloudId"].as_str().unwrap().to_owned();
    let (s, r) = app
        .post_json(&format!("{}/restores", app.site_path(&dest)), json!({"backupId": backup, "product": "JIRA", "includeUsersAndGroups": true}))
        .await;
    assert_eq!(s, 202, "{r}");
    let restore_id = r["restoreId"].as_str().unwrap().to_owned();
    // Every check that warns, consented ("Accept_… or Deny_…" choices: the first).
    let consents: Vec<String> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "WARNING")
        .filter_map(|c| c["consent"].as_str().map(|s| s.split(" or ").next().unwrap().to_owned()))
        .collect();
    let (s, r) = app
        .post_json(&format!("{}/restores/revalidate", app.site_path(&dest)), json!({"restoreId": restore_id, "consent": consents}))
        .await;
    assert_eq!(s, 202, "{r}");
    let done = app.wait_json(&format!("/orgs/{org}/restores/{restore_id}"), 60, |r| r["status"] == "COMPLETE" || r["status"] == "FAILED").await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    let (_, reviews) = app.get_json(&format!("/orgs/{org}/access-reviews")).await;
    let review_id = reviews["items"][0]["reviewId"].as_str().expect("a pending review after the restore").to_owned();

    let ids = BTreeMap::from([
        ("org_id", org),
        ("cloud_id", src),
        ("storage_id", storage_id),
        ("policy_id", policy),
        ("backup_id", backup),
        ("export_id", export_id),
        ("import_id", import_id),
        ("restore_id", restore_id),
        ("migration_id", done["migrationId"].as_str().unwrap().to_owned()),
        ("review_id", review_id),
        ("decision", "approve".to_owned()),
        ("product", "JIRA".to_owned()),
        ("issue_key", issue_key),
        ("page_id", page["pageId"].as_str().unwrap().to_owned()),
        ("attachment_id", attachment["attachmentId"].as_str().unwrap().to_owned()),
    ]);
    World { app, ids, dest, _roots: roots }
}

/// Every operation of the published document: (method, path template).
async fn operations(app: &TestApp) -> (Value, Vec<(Method, String)>) {
    let res = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if let Ok(m) = method.to_uppercase().parse::<Method>() {
                ops.push((m, path.clone()));
            }
        }
    }
    (doc, ops)
}

impl World {
    /// The template filled with this world's ids (`{key}` is the Jira project or the Confluence space).
    fn path(&self, method: &Method, template: &str) -> String {
        let mut p = template.to_owned();
        if template.contains("/restores") && template.contains("{cloud_id}") || template.contains("/migration/") {
            p = p.replace("{cloud_id}", &self.dest);
        }
        let key = if template.contains("/confluence/") { "MTXS" } else { "MTX" };
        p = p.replace("{key}", key);
        for (name, value) in &self.ids {
            p = p.replace(&format!("{{{name}}}"), value);
        }
        assert!(!p.contains('{'), "no value for a parameter of {method} {template}");
        format!("/api/v1{p}")
    }

    /// A valid request body for each state-changing operation, so that only the caller's rights
    /// can make it fail.
    fn body(&self, method: &Method, template: &str) -> Option<Value> {
        if *method == Method::GET || *method == Method::DELETE {
            return None;
        }
        let id = |k: &str| self.ids[k].clone();
        let last = template.rsplit('/').next().unwrap();
        Some(match (method.as_str(), last) {
            ("POST", "sites") => json!({"name": "Intruder", "products": ["JIRA"], "plan": "FREE", "shard": "x"}),
            ("POST", "users") => json!({"email": "intruder@acme.test", "displayName": "I"}),
            ("POST", "groups") => json!({"name": "intruders", "members": []}),
            ("POST", "regions") => json!({}),
            ("POST", "storages") => json!({"storageType": "filesystem", "storageName": "X", "path": "/nonexistent", "cloudId": id("cloud_id")}),
            ("POST", "policies") => json!({"product": "JIRA"}),
            ("PUT", "{policy_id}") => json!({"includeAttachments": false}),
            ("POST", "backups") => json!({"policyId": id("policy_id")}),
            ("POST", "cancel") => json!({}),
            ("POST", "exports" | "imports") => json!([{"product": "JIRA", "cloudId": id("cloud_id"), "backupId": id("backup_id")}]),
            ("POST", "restores") => json!({"backupId": id("backup_id"), "product": "JIRA"}),
            ("POST", "revalidate") => json!({"restoreId": id("restore_id"), "consent": []}),
            ("PUT", "access") => json!({"group": "intruders", "role": "ADMIN"}),
            ("POST", "projects") => json!({"key": "INT", "name": "Intruder"}),
            ("POST", "issues") => json!({"summary": "intrusion"}),
            ("POST", "spaces") => json!({"key": "INTS", "name": "Intruder", "type": "global"}),
            ("POST", "pages") => json!({"title": "intrusion", "body": ""}),
            ("POST", "attachments") => Value::String("raw bytes".into()),
            ("POST", "{decision}") => json!({}),
            _ => panic!("the matrix has no body for {method} {template}: add one"),
        })
    }

    fn request(&self, method: &Method, template: &str, auth: Option<(&str, &str)>) -> reqwest::RequestBuilder {
        let url = self.app.url(&self.path(method, template));
        let mut req = self.app.client.request(method.clone(), url);
        if let Some((email, token)) = auth {
            req = req.basic_auth(email, Some(token));
        }
        match self.body(method, template) {
            Some(Value::String(raw)) => req.query(&[("filename", "x.txt")]).body(raw),
            Some(body) => req.json(&body),
            None => req,
        }
    }

    /// Everything an intruder could have changed, read by the real admin.
    async fn state(&self) -> String {
        let org = &self.ids["org_id"];
        let mut parts = Vec::new();
        for cloud in [&self.ids["cloud_id"], &self.dest] {
            for product in ["JIRA", "CONFLUENCE"] {
                parts.push(self.app.get_json(&format!("/orgs/{org}/cloud/{cloud}/apps/{product}/digest")).await.1);
                parts.push(self.app.get_json(&format!("/orgs/{org}/cloud/{cloud}/apps/{product}/access")).await.1);
            }
            parts.push(self.app.get_json(&format!("/orgs/{org}/cloud/{cloud}/apps")).await.1);
        }
        for list in ["sites", "users?limit=500", "groups?limit=500", "storages", "policies", "exports", "imports", "restores", "access-reviews"] {
            parts.push(self.app.get_json(&format!("/orgs/{org}/{list}")).await.1);
        }
        parts.push(self.app.get_json(&format!("/orgs/{org}/policies/{}/backups", self.ids["policy_id"])).await.1);
        serde_json::to_string(&parts).unwrap()
    }
}

/// Operations any organization admin may call, app-admin or not: the organization-wide ones (lists
/// there show only the apps the caller administers; storages are the organization's, see
/// docs/decisions.md).
fn org_level(method: &Method, template: &str) -> bool {
    let t = template;
    matches!(
        (method.as_str(), t),
        ("GET", "/orgs")
            | ("GET", "/orgs/{org_id}")
            | ("GET" | "POST", "/orgs/{org_id}/sites")
            | ("GET" | "POST", "/orgs/{org_id}/users")
            | ("GET" | "POST", "/orgs/{org_id}/groups")
            | ("GET", "/orgs/{org_id}/access-reviews")
            | ("GET" | "POST", "/orgs/{org_id}/storages")
            | ("GET", "/orgs/{org_id}/storages/{storage_id}")
            | ("POST", "/orgs/{org_id}/storages/regions")
            | ("GET", "/orgs/{org_id}/policies")
            | ("GET", "/orgs/{org_id}/exports")
            | ("GET", "/orgs/{org_id}/imports")
            | ("GET", "/orgs/{org_id}/restores")
            | ("GET", "/orgs/{org_id}/audit")
            | ("GET", "/orgs/{org_id}/cloud/{cloud_id}/apps")
    )
}

/// The request rules the document states (`server/src/api/documented_rules.rs`) are the ones the
/// API applies: at each stated limit the API accepts, one past it refuses; every stated value is
/// accepted.
#[tokio::test]
async fn the_openapi_document_states_the_rules_the_api_checks() {
    let app = spawn_app().await;
    let (doc, _) = operations(&app).await;
    let org = format!("/orgs/{}", app.org_id);
    let schemas = &doc["components"]["schemas"];

    let name_max = schemas["NewSite"]["properties"]["name"]["maxLength"].as_u64().unwrap() as usize;
    let (s, body) = app.post_json(&format!("{org}/sites"), json!({"name": "s".repeat(name_max)})).await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app.post_json(&format!("{org}/sites"), json!({"name": "s".repeat(name_max + 1)})).await;
    assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_SITE_NAME")));

    let email_max = schemas["NewUser"]["properties"]["email"]["maxLength"].as_u64().unwrap() as usize;
    let at_max = format!("{}@example.com", "u".repeat(email_max - "@example.com".len()));
    let (s, body) = app.post_json(&format!("{org}/users"), json!({"email": at_max})).await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app.post_json(&format!("{org}/users"), json!({"email": format!("u{at_max}")})).await;
    assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_EMAIL")));

    let exports = &doc["paths"]["/orgs/{org_id}/exports"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(exports["minItems"], 1);
    let items_max = exports["maxItems"].as_u64().unwrap() as usize;
    let item = json!({"product": "JIRA", "cloudId": "nowhere", "backupId": "none"});
    let (s, body) = app.post_json(&format!("{org}/exports"), json!(vec![item.clone(); items_max])).await;
    assert_ne!(body["code"], "INVALID_BODY", "{s} {body}");
    let (s, body) = app.post_json(&format!("{org}/exports"), json!(vec![item; items_max + 1])).await;
    assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_BODY")));

    for storage_type in schemas["NewStorage"]["properties"]["storageType"]["enum"].as_array().unwrap() {
        let (s, body) = app.post_json(&format!("{org}/storages"), json!({"storageType": storage_type})).await;
        assert_ne!(body["code"], "INVALID_STORAGE_TYPE", "{storage_type}: {s} {body}");
    }
    let (s, body) = app.post_json(&format!("{org}/storages"), json!({"storageType": "ftp"})).await;
    assert_eq!((s, body["code"].as_str()), (400, Some("INVALID_STORAGE_TYPE")));

    // Operations without parameters have none listed (not `null`, which schema tools refuse).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(!op.get("parameters").is_some_and(Value::is_null), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_of_the_spec() {
    let app = spawn_app().await;
    let (doc, ops) = operations(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    assert!(doc["components"]["securitySchemes"]["basic"].is_object());
    let have: BTreeSet<String> = ops.iter().map(|(m, p)| format!("{m} {p}")).collect();
    // SPEC §5.1 and the product's own additions.
    for want in [
        "POST /orgs/{org_id}/storages/regions",
        "POST /orgs/{org_id}/storages",
        "GET /orgs/{org_id}/storages",
        "GET /orgs/{org_id}/storages/{storage_id}",
        "POST /orgs/{org_id}/cloud/{cloud_id}/policies",
        "GET /orgs/{org_id}/policies",
        "GET /orgs/{org_id}/policies/{policy_id}",
        "PUT /orgs/{org_id}/policies/{policy_id}",
        "POST /orgs/{org_id}/backups",
        "GET /orgs/{org_id}/policies/{policy_id}/backups",
        "GET /orgs/{org_id}/backups/{backup_id}",
        "POST /orgs/{org_id}/backups/{backup_id}/cancel",
        "POST /orgs/{org_id}/exports",
        "GET /orgs/{org_id}/exports",
        "GET /orgs/{org_id}/cloud/{cloud_id}/exports/{export_id}",
        "POST /orgs/{org_id}/imports",
        "GET /orgs/{org_id}/cloud/{cloud_id}/imports/{import_id}",
        "POST /orgs/{org_id}/cloud/{cloud_id}/restores",
        "POST /orgs/{org_id}/cloud/{cloud_id}/restores/revalidate",
        "GET /orgs/{org_id}/restores",
        "GET /orgs/{org_id}/restores/{restore_id}",
        "GET /orgs/{org_id}/cloud/{cloud_id}/migration/{migration_id}/postOpReport",
        "GET /orgs/{org_id}/audit",
    ] {
        assert!(have.contains(want), "{want} is missing from the OpenAPI document");
    }
    // Bodies and answers are described by schemas, errors by the shared error body.
    let create = &doc["paths"]["/orgs/{org_id}/cloud/{cloud_id}/restores"]["post"];
    assert!(create["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap().ends_with("/NewRestore"));
    assert!(create["responses"]["202"].is_object() && create["responses"]["404"].is_object() && create["responses"]["429"].is_object());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in ["Backup", "Restore", "Policy", "Storage", "AuditEntry", "ErrorBody"] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    assert!(schemas["Storage"]["properties"].get("secretAccessKey").is_none(), "secrets are never answered");
    // Every route the server answers is in the document: an undocumented path is a 404.
    let (s, body) = app.get_json("/orgs/nowhere/undocumented").await;
    assert_eq!((s, body["code"].as_str()), (404, Some("NOT_FOUND")));
}

#[tokio::test]
async fn the_authorization_matrix_holds_for_every_operation() {
    let w = world().await;
    let (_, ops) = operations(&w.app).await;
    assert!(ops.len() >= 45, "only {} operations documented", ops.len());

    // An admin of another organization, and an admin of this one without app-admin rights.
    let eve = identity::create_admin(&w.app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let eve_token = identity::create_token(&w.app.db, &eve.email, "t").await.unwrap().1;
    let olga = identity::create_admin(&w.app.db, "olga@acme.test", "Acme", PASSWORD, false).await.unwrap();
    assert_eq!(olga.org.org_id, w.ids["org_id"], "Olga administers Acme");
    let olga_token = identity::create_token(&w.app.db, &olga.email, "t").await.unwrap().1;

    let before = w.state().await;
    let mut failures = Vec::new();
    for (method, template) in &ops {
        if template == "/openapi.json" {
            continue;
        }
        let mut cases: Vec<(&str, Option<(&str, &str)>, StatusCode)> = vec![
            ("no credentials", None, StatusCode::UNAUTHORIZED),
            ("a wrong token", Some((w.app.email.as_str(), "not-a-token")), StatusCode::UNAUTHORIZED),
            ("an admin of another organization", Some((eve.email.as_str(), eve_token.as_str())), StatusCode::NOT_FOUND),
        ];
        if !org_level(method, template) && template != "/orgs" {
            cases.push(("an org admin without app-admin rights", Some((olga.email.as_str(), olga_token.as_str())), StatusCode::FORBIDDEN));
        }
        if template == "/orgs" {
            // Lists only the caller's organizations: Eve sees Globex alone.
            let res = w.request(method, template, Some((&eve.email, &eve_token))).send().await.unwrap();
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
            assert_eq!(body["items"][0]["name"], "Globex");
            cases.truncate(2);
        }
        for (who, auth, want) in cases {
            let res = w.request(method, template, auth).send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            if status != want {
                failures.push(format!("{method} {template} by {who}: {status} (want {want}) {body}"));
            } else if !body.contains("\"code\"") {
                failures.push(format!("{method} {template} by {who}: no error code in {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(w.state().await, before, "a refused request changed something");

    // An org admin without app-admin rights sees the organization, not the apps' objects.
    let olga_auth = Some((olga.email.as_str(), olga_token.as_str()));
    for list in ["/orgs/{org_id}/policies", "/orgs/{org_id}/restores", "/orgs/{org_id}/exports", "/orgs/{org_id}/imports"] {
        let res = w.request(&Method::GET, list, olga_auth).send().await.unwrap();
        assert_eq!(res.status(), 200, "{list}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["items"], json!([]), "{list} shows another admin's apps: {body}");
    }
}

/// Malformed input of every kind on every operation: never a 5xx, always a JSON error.
#[tokio::test]
async fn fuzzing_every_operation_finds_no_server_error() {
    let w = world().await;
    let (_, ops) = operations(&w.app).await;
    let auth = Some((w.app.email.as_str(), w.app.token.as_str()));
    let huge = "é😀\u{202e}\0".repeat(20_000);
    let bodies: Vec<(&str, String)> = vec![
        ("truncated JSON", "{\"product\": \"JI".into()),
        ("an array", "[1, 2, 3]".into()),
        ("a number", "123".into()),
        ("null", "null".into()),
        ("wrong types", json!({"product": 7, "policyId": [], "backupId": {}, "name": false, "consent": "x", "schedule": 3, "includeAttachments": "yes", "key": 1.5, "members": "a"}).to_string()),
        ("huge unicode", json!({"name": huge, "key": huge, "summary": huge, "title": huge, "email": huge, "policyId": huge, "backupId": huge, "restoreId": huge, "product": huge, "storageType": "filesystem", "path": huge}).to_string()),
        ("deep nesting", format!("{}{}", "[".repeat(5_000), "]".repeat(5_000))),
    ];
    let segments = ["..", "%2e%2e", "a%2Fb", "%00", "%ZZ", "ü😀", &"x".repeat(5_000), "0190b6c8-7d1e-7000-8000-000000000009"];
    let queries = "limit=-1&offset=abc&since=yesterday&product=NOPE&cloudId=%00&productType=1&actor=%FF&action=..";
    let mut failures = Vec::new();
    let mut sent = 0;
    let mut check = |what: String, status: StatusCode, body: String| {
        sent += 1;
        if status.is_server_error() {
            failures.push(format!("{what}: {status} {}", body.chars().take(200).collect::<String>()));
        }
    };
    for (method, template) in &ops {
        if template == "/openapi.json" {
            continue;
        }
        let path = w.path(method, template);
        let url = w.app.url(&path);
        if *method != Method::GET {
            for (name, body) in &bodies {
                let res = w.app.client.request(method.clone(), &url).basic_auth(auth.unwrap().0, Some(auth.unwrap().1)).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
                let status = res.status();
                check(format!("{method} {template} with {name}"), status, res.text().await.unwrap_or_default());
            }
        }
        let res = w.app.client.request(method.clone(), format!("{url}?{queries}")).basic_auth(auth.unwrap().0, Some(auth.unwrap().1)).send().await.unwrap();
        let status = res.status();
        check(format!("{method} {template} with a bad query"), status, res.text().await.unwrap_or_default());
        // Each path parameter in turn replaced by a hostile segment.
        let names: Vec<&str> = template.split('/').filter(|s| s.starts_with('{')).collect();
        for name in names {
            for seg in segments {
                let filled = w.path(method, &template.replacen(name, "@@", 1)).replacen("@@", seg, 1);
                let req = w.request(method, template, auth);
                let mut req = req.build().unwrap();
                *req.url_mut() = reqwest::Url::parse(&w.app.url(&filled)).unwrap();
                let res = w.app.client.execute(req).await.unwrap();
                let status = res.status();
                check(format!("{method} {template} with {name}={seg:.20}"), status, res.text().await.unwrap_or_default());
            }
        }
    }
    assert!(failures.is_empty(), "{} of {sent} requests failed:\n{}", failures.len(), failures.join("\n"));
    assert!(sent > 500, "only {sent} requests sent");
    // And the server still answers.
    assert_eq!(w.app.get_json(&format!("/orgs/{}", w.ids["org_id"])).await.0, 200);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.api_limits.reads_per_org = 3;
        c.api_limits.creates_per_org = 2;
        c.api_limits.window = Duration::from_secs(30);
    })
    .await;
    let org = app.org_id.clone();
    // An outsider hammering Acme's URLs (404 each) uses up only their own allowance, not Acme's.
    let eve = identity::create_admin(&app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let eve_token = identity::create_token(&app.db, &eve.email, "t").await.unwrap().1;
    let as_eve = || app.client.get(app.url(&format!("/api/v1/orgs/{org}/policies"))).basic_auth(&eve.email, Some(&eve_token));
    for _ in 0..3 {
        assert_eq!(as_eve().send().await.unwrap().status(), 404);
    }
    assert_eq!(as_eve().send().await.unwrap().status(), 429, "the outsider is limited");
    for _ in 0..3 {
        assert_eq!(app.get_json(&format!("/orgs/{org}/policies")).await.0, 200);
    }
    let res = app.api(Method::GET, &format!("/orgs/{org}/storages")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");

    // Creates are counted per operation: two sites are "other writes", two storage creates pass
    // (or fail on their own merits) and the third is refused before it is looked at.
    let storages = format!("/orgs/{org}/storages");
    for _ in 0..2 {
        let (s, b) = app.post_json(&storages, json!({"storageType": "ftp"})).await;
        assert_eq!(s, 400, "{b}");
    }
    let (s, b) = app.post_json(&storages, json!({"storageType": "ftp"})).await;
    assert_eq!((s, b["code"].as_str()), (429, Some("RATE_LIMITED")));
    // Anonymous requests never count against the organization: they are refused first.
    let res = app.client.get(app.url(&format!("/api/v1/orgs/{org}/policies"))).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_write_the_database_cannot_take_answers_503_with_retry_after_and_changes_nothing() {
    let app = spawn_app().await;
    let sites = format!("/orgs/{}/sites", app.org_id);
    let body = json!({"name": "Busy", "products": ["JIRA"], "plan": "FREE", "shard": "eu-1"});
    // Another connection holds SQLite's one writer, as a long restore's write transaction does.
    let mut holder = app.db.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *holder).await.unwrap();
    let started = std::time::Instant::now();
    let res = app.api(Method::POST, &sites).json(&body).send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "10");
    let refused: Value = res.json().await.unwrap();
    assert_eq!(refused["code"], "DATABASE_BUSY", "{refused}");
    // It waited out the busy timeout once: the audit entry of a refusal the database could not
    // take is not tried (it would wait as long again).
    let timeout = lifeboat_domain::store::BUSY_TIMEOUT;
    assert!(waited >= timeout && waited < timeout + Duration::from_secs(5), "answered after {waited:?}");
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    let (s, listed) = app.get_json(&sites).await;
    assert_eq!(s, 200);
    assert!(!listed.to_string().contains("Busy"), "the refused request created nothing: {listed}");
    // Once the writer is free, the same request goes through.
    let (s, created) = app.post_json(&sites, body).await;
    assert_eq!(s, 201, "{created}");
}

#[tokio::test]
async fn every_state_change_is_in_the_audit_log() {
    let app = spawn_app_with(quick_jobs).await;
    let org = app.org_id.clone();
    let cloud = app.create_site("Audited").await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let (s, _) = app.post_json(&format!("{}/policies", app.site_path(&cloud)), json!({"product": "JIRA"})).await;
    assert_eq!(s, 409, "a second managed policy is refused");
    let backup = app.start_backup(&policy).await;
    app.finished_backup(&backup).await;
    let (s, _) = app.put_json(&format!("/orgs/{org}/policies/{policy}"), json!({"includeAttachments": false})).await;
    assert_eq!(s, 200);

    // Another organization's admin trying to read or change Acme is recorded as a failure too.
    let eve = identity::create_admin(&app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let eve_token = identity::create_token(&app.db, &eve.email, "t").await.unwrap().1;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orgs/{org}/backups")))
        .basic_auth(&eve.email, Some(&eve_token))
        .json(&json!({"policyId": policy}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let (s, log) = app.get_json(&format!("/orgs/{org}/audit")).await;
    assert_eq!(s, 200, "{log}");
    let entries = log["items"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = entries.iter().map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap())).collect();
    assert_eq!(
        actions,
        vec![
            ("backup.create", "FAILURE"),
            ("policy.update", "SUCCESS"),
            ("backup.create", "SUCCESS"),
            ("policy.create", "FAILURE"),
            ("policy.create", "SUCCESS"),
            ("site.create", "SUCCESS"),
        ],
        "newest first: {log}"
    );
    assert_eq!(entries[0]["actorEmail"], "eve@globex.test");
    assert_eq!(entries[0]["code"], "ORG_NOT_FOUND");
    assert_eq!(entries[2]["target"], backup.as_str(), "a success names what it created");
    assert_eq!(entries[3]["code"], "POLICY_EXISTS");
    assert_eq!(entries[5]["actorEmail"], "admin@acme.test");
    assert_eq!(entries[5]["target"], cloud.as_str());

    // Filters and paging.
    let (_, f) = app.get_json(&format!("/orgs/{org}/audit?action=policy.")).await;
    assert_eq!(f["total"], 3);
    let (_, f) = app.get_json(&format!("/orgs/{org}/audit?actor=eve@globex.test")).await;
    assert_eq!(f["total"], 1);
    let (_, f) = app.get_json(&format!("/orgs/{org}/audit?limit=2&offset=2")).await;
    assert_eq!(f["items"].as_array().unwrap().len(), 2);
    assert_eq!(f["nextOffset"], 4);
    let (_, f) = app.get_json(&format!("/orgs/{org}/audit?since=2999-01-01T00:00:00Z")).await;
    assert_eq!(f["total"], 0);
    // Eve cannot read Acme's log.
    let res = app.client.get(app.url(&format!("/api/v1/orgs/{org}/audit"))).basic_auth(&eve.email, Some(&eve_token)).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

/// HTTP Basic with the wrong scheme or garbage is a 401 like no credentials at all.
#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let app = spawn_app().await;
    let url = app.url(&format!("/api/v1/orgs/{}", app.org_id));
    let garbage = base64::engine::general_purpose::STANDARD.encode("no-colon");
    for value in ["Bearer abc", "Basic !!!", &format!("Basic {garbage}"), &format!("Basic {}", "A".repeat(5000))] {
        let res = app.client.get(&url).header("authorization", value).send().await.unwrap();
        assert_eq!(res.status(), 401, "{value:.30}");
    }
}

/// The dashboard's server functions go through the same services: the same 404 for another
/// organization, the same 403 without app-admin rights, the same audit entries.
#[tokio::test]
async fn server_functions_enforce_the_same_rights() {
    let app = spawn_app_with(quick_jobs).await;
    let org = app.org_id.clone();
    let cloud = app.create_site("Guarded").await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    identity::create_admin(&app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    identity::create_admin(&app.db, "olga@acme.test", "Acme", PASSWORD, false).await.unwrap();

    let call = |cookie: String, endpoint: &'static str, form: Vec<(&'static str, String)>| {
        let req = app.client.post(app.url(&format!("/sfn/{endpoint}"))).header("cookie", cookie).header("origin", &app.base).form(&form);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let sign_in = |email: &'static str| {
        let res = app.post_login(email, PASSWORD, None);
        async move { session_cookie(res.await.headers()).expect("signed in") }
    };
    let eve = sign_in("eve@globex.test").await;
    let olga = sign_in("olga@acme.test").await;
    // The banner over the tabs asks for a count of reviews, under the list's rights.
    let (status, body) = call(eve.clone(), "pending_access_reviews", vec![("org_id", org.clone())]).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("ORG_NOT_FOUND")), "{body}");

    let run = vec![("org_id", org.clone()), ("policy_id", policy.clone())];
    // Refusals answer with the REST API's statuses, not leptos' default 500.
    let (status, body) = call(eve.clone(), "run_backup", run.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "ORG_NOT_FOUND", "{body}");
    let (_, body) = call(eve, "backups_overview", vec![("org_id", org.clone()), ("offset", "0".into())]).await;
    assert_eq!(body["code"], "ORG_NOT_FOUND", "{body}");
    let (status, body) = call(olga.clone(), "run_backup", run).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "NOT_APP_ADMIN", "{body}");
    // Olga sees the organization, not the app's policies.
    let (status, body) = call(olga.clone(), "backups_overview", vec![("org_id", org.clone()), ("offset", "0".into())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["policies"], json!([]));
    // The audit log covers every app: an admin of some apps (here none) may not read it.
    let filters = vec![("org_id", org.clone()), ("actor", String::new()), ("action", String::new()), ("offset", "0".into())];
    let (status, body) = call(olga, "audit_log", filters).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "NOT_APP_ADMIN", "{body}");
    // A conflict is a 409 and bad input a 400, as on the REST API.
    let admin = app.sign_in().await;
    let (status, body) = call(admin.clone(), "pending_access_reviews", vec![("org_id", org.clone())]).await;
    assert_eq!((status.as_u16(), body.as_u64()), (200, Some(0)), "{body}");
    let policy_form = |app_field: String| {
        vec![("org_id", org.clone()), ("app", app_field), ("storage_id", String::new()), ("interval", "NONE".into())]
    };
    let (status, body) = call(admin.clone(), "create_policy", policy_form(format!("{cloud}|JIRA"))).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (409, Some("POLICY_EXISTS")), "{body}");
    let (status, body) = call(admin, "create_policy", policy_form("no-app".into())).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("INVALID_APP")), "{body}");

    let (_, log) = app.get_json(&format!("/orgs/{org}/audit?action=backup.create")).await;
    let who: Vec<(&str, &str)> = log["items"].as_array().unwrap().iter().map(|e| (e["actorEmail"].as_str().unwrap(), e["code"].as_str().unwrap())).collect();
    assert_eq!(who, vec![("olga@acme.test", "NOT_APP_ADMIN"), ("eve@globex.test", "ORG_NOT_FOUND")]);
}
