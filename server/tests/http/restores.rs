//! Restores over HTTP: refusals, checks and consents, the plan before consent, digest equality after
//! full restores, options, all-or-nothing failure, the report and access reviews.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

/// A site with content, a custom group with access to its Jira, and a COMPLETE backup of `product`.
async fn source_backup(app: &TestApp, product: &str) -> (String, String, Value) {
    let cloud = app
        .seed_site("Source", |o| {
            o.issues = 120;
            o.comments = 200;
            o.pages = 40;
            o.attachments = 6;
            o.attachment_size = 4096;
        })
        .await;
    for email in ["rm1@acme.test", "rm2@acme.test"] {
        app.post_json(&format!("/orgs/{}/users", app.org_id), json!({"email": email, "displayName": email})).await;
    }
    let (status, body) = app
        .post_json(&format!("/orgs/{}/groups", app.org_id), json!({"name": "release-managers", "members": ["rm1@acme.test", "rm2@acme.test"], "custom": true}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .put_json(&format!("{}/apps/{product}/access", app.site_path(&cloud)), json!({"group": "release-managers", "role": "ADMIN"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut policy = json!({"product": product, "includeAttachments": true, "includeUsersAndGroups": true});
    if product == "CONFLUENCE" {
        policy["includePersonalSpaces"] = json!(true);
    }
    let policy = app.create_policy(&cloud, policy).await;
    let backup = app.finished_backup(&app.start_backup(&policy).await).await;
    assert_eq!(backup["status"], "COMPLETE", "{backup}");
    let (_, digest) = app.get_json(&format!("{}/apps/{product}/digest", app.site_path(&cloud))).await;
    (cloud, backup["backupId"].as_str().unwrap().to_owned(), digest)
}

async fn create_site_with(app: &TestApp, name: &str, plan: &str, shard: &str, trial: bool, products: &[&str]) -> String {
    let (status, site) = app
        .post_json(
            &format!("/orgs/{}/sites", app.org_id),
            json!({"name": name, "products": products, "plan": plan, "shard": shard, "freeTrial": trial}),
        )
        .await;
    assert_eq!(status, 201, "{site}");
    site["cloudId"].as_str().unwrap().to_owned()
}

async fn restore(app: &TestApp, dest: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("{}/restores", app.site_path(dest)), body).await
}

async fn revalidate(app: &TestApp, dest: &str, id: &str, consent: &[&str]) -> (u16, Value) {
    app.post_json(&format!("{}/restores/revalidate", app.site_path(dest)), json!({"restoreId": id, "consent": consent})).await
}

async fn finished_restore(app: &TestApp, id: &str) -> Value {
    app.wait_json(&format!("/orgs/{}/restores/{id}", app.org_id), 60, |r| {
        !matches!(r["status"].as_str(), Some("IN_PROGRESS") | Some("VALIDATING"))
    })
    .await
}

/// The consent to each warning of a validated restore (of "Accept_… or Deny_…", accept).
fn consent_to_every_warning(r: &Value) -> Vec<&str> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "WARNING")
        .map(|c| c["consent"].as_str().unwrap().split(" or ").next().unwrap())
        .collect()
}

fn check<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}: {r}"))
}

/// Quick jobs, and the same backup restorable again at once (no `restore_min_interval`).
fn restores_again(c: &mut lifeboat_server::config::Config) {
    quick_jobs(c);
    c.backup.restore_min_interval = Duration::ZERO;
}

#[tokio::test]
async fn a_full_jira_restore_gives_the_source_digest_after_consent() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, source_digest) = source_backup(&app, "JIRA").await;
    // Same shard as the seeded source, a higher plan: only the directory checks warn.
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA", "CONFLUENCE"]).await;
    let (_, before) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    // A backup of the destination before the restore, which a backup after it must not reuse.
    let dest_policy = app.create_policy(&dest, json!({"product": "JIRA", "includeAttachments": true, "includeUsersAndGroups": true})).await;
    let empty = app.start_backup(&dest_policy).await;
    assert_eq!(app.finished_backup(&empty).await["status"], "COMPLETE");
    let triggers = triggers(&app).await;
    assert!(triggers.iter().any(|(name, _)| name == "jira_issues_changed_insert"), "{triggers:?}");

    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA", "includeAttachments": true, "includeUsersAndGroups": true})).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["status"], "AWAITING_CONSENT", "{r}");
    assert_eq!(check(&r, "Conflicting_Space_Check")["result"], "PASS");
    assert_eq!(check(&r, "Conflicting_Group_Check")["result"], "WARNING");
    assert_eq!(check(&r, "Conflicting_Group_Check")["consent"], "Consent_Conflicting_Group_Check");
    assert_eq!(check(&r, "Custom_Group_Check")["result"], "WARNING");
    assert_eq!(check(&r, "TDP_Shard_Check")["result"], "PASS");
    // The plan is there before any consent: a dry run.
    assert_eq!(r["plan"]["projects"]["create"], source_digest["counts"]["projects"]);
    assert_eq!(r["plan"]["issues"]["create"], 120);
    assert!(r["plan"]["groups"]["merge"].as_u64().unwrap() >= 1, "{}", r["plan"]);
    // Nothing in it is skipped under a parent, so validation counted issues and comments from the
    // manifest without decompressing their parts; the job, which decodes every record, carries out
    // the same plan (below).
    let planned = r["plan"].clone();
    let id = r["restoreId"].as_str().unwrap().to_owned();

    // Missing consent keeps it waiting; unknown names are refused.
    let (status, r) = revalidate(&app, &dest, &id, &["Consent_Conflicting_Group_Check"]).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["status"], "AWAITING_CONSENT");
    assert!(r["statusMessage"].as_str().unwrap().contains("Accept_Custom_Group_Check"));
    let (status, body) = revalidate(&app, &dest, &id, &["Consent_Everything"]).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_CONSENT")));
    let (_, unchanged) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(unchanged, before, "nothing is written before consent");

    let (status, r) = revalidate(&app, &dest, &id, &["Consent_Conflicting_Group_Check", "Accept_Custom_Group_Check"]).await;
    assert_eq!(status, 202, "{r}");
    let done = finished_restore(&app, &id).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after["sha256"], source_digest["sha256"], "same digest as the source at backup time");
    assert_eq!(after["counts"], source_digest["counts"]);
    pooled_connections_have_sqlite_defaults(&app).await;
    // The change-mark triggers the restore suspended are back as they were, and the restore marked
    // the app changed: the next backup reads it again.
    assert_eq!(self::triggers(&app).await, triggers);
    let after_restore = app.start_backup(&dest_policy).await;
    let b = app.finished_backup(&after_restore).await;
    assert_eq!((&b["status"], &b["statusMessage"]), (&json!("COMPLETE"), &Value::Null), "{b}");
    assert_eq!(b["counts"]["issues"], 120, "{b}");

    // The post-operation report, by migration id.
    let migration = done["migrationId"].as_str().unwrap();
    let (status, report) = app.get_json(&format!("{}/migration/{migration}/postOpReport", app.site_path(&dest))).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["entities"]["issues"]["create"], 120);
    assert_eq!(report["entities"], planned, "the plan carried out is the plan validated");
    assert_eq!(report["consents"], json!(["Consent_Conflicting_Group_Check", "Accept_Custom_Group_Check"]));
    assert_eq!(report["requestedBy"], "admin@acme.test");
    assert!(report["durationMs"].is_u64());

    // Restored groups' access waits for review: the custom group's ADMIN role grants nothing yet.
    let (_, reviews) = app.get_json(&format!("/orgs/{}/access-reviews", app.org_id)).await;
    let pending: Vec<&Value> = reviews["items"].as_array().unwrap().iter().filter(|r| r["cloudId"] == dest.as_str()).collect();
    assert!(pending.iter().any(|r| r["group"] == "release-managers" && r["status"] == "PENDING_REVIEW"), "{reviews}");

    // The same backup again, too soon.
    let other = app.create_site("Another").await;
    let (status, body) = restore(&app, &other, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RESTORE_TOO_SOON")), "{body}");
}

#[tokio::test]
async fn confluence_restore_skips_conflicting_spaces_and_denies_custom_groups() {
    let app = spawn_app_with(restores_again).await;
    let (_source, backup, source_digest) = source_backup(&app, "CONFLUENCE").await;
    // A lower plan, another shard, a free trial, and a space whose key is in the backup.
    let dest = create_site_with(&app, "Trial", "FREE", "us-1", true, &["CONFLUENCE"]).await;
    let (_, spaces) = app.get_json(&format!("{}/confluence/spaces?limit=100", app.site_path(&_source))).await;
    let key = spaces["items"].as_array().unwrap().iter().find(|s| s["type"] == "global").unwrap()["key"].as_str().unwrap().to_owned();
    let (status, _) = app.post_json(&format!("{}/confluence/spaces", app.site_path(&dest)), json!({"key": key, "name": "Theirs", "type": "global"})).await;
    assert_eq!(status, 201);

    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "CONFLUENCE", "includeAttachments": false, "includeUsersAndGroups": true, "includePersonalSpaces": true})).await;
    assert_eq!(status, 202, "{r}");
    for name in ["Conflicting_Space_Check", "Product_License_Check", "TDP_Shard_Check", "Site_License_Check", "Custom_Group_Check"] {
        assert_eq!(check(&r, name)["result"], "WARNING", "{name}: {r}");
    }
    let skipped = r["plan"]["spaces"]["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["key"] == key.as_str() && s["reason"].as_str().unwrap().contains("exists")), "{}", r["plan"]);
    assert_eq!(r["plan"]["attachments"]["create"], 0, "attachments not included");
    let id = r["restoreId"].as_str().unwrap().to_owned();
    let all = [
        "Consent_Conflicting_Space_Check",
        "Consent_Conflicting_Group_Check",
        "Consent_Product_License_Check",
        "Consent_TDP_Shard_Check",
        "Consent_Site_License_Check",
        "Deny_Custom_Group_Check",
    ];
    let (status, revalidated) = revalidate(&app, &dest, &id, &all).await;
    assert_eq!(status, 202);
    let done = finished_restore(&app, &id).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");

    let (_, apps) = app.get_json(&format!("{}/apps", app.site_path(&dest))).await;
    assert_eq!(apps["items"][0]["shard"], "shard-1", "moved to the backup's shard");
    let (_, theirs) = app.get_json(&format!("{}/confluence/spaces?limit=100", app.site_path(&dest))).await;
    let kept = theirs["items"].as_array().unwrap().iter().find(|s| s["key"] == key.as_str()).unwrap();
    assert_eq!(kept["name"], "Theirs", "the destination's version stays");
    let (_, digest) = app.get_json(&format!("{}/apps/CONFLUENCE/digest", app.site_path(&dest))).await;
    assert_eq!(digest["counts"]["attachments"], 0);
    assert!(digest["counts"]["pages"].as_u64().unwrap() < source_digest["counts"]["pages"].as_u64().unwrap() + 1);
    let (_, reviews) = app.get_json(&format!("/orgs/{}/access-reviews", app.org_id)).await;
    assert!(
        !reviews["items"].as_array().unwrap().iter().any(|r| r["cloudId"] == dest.as_str() && r["group"] == "release-managers"),
        "denied custom groups bring no access"
    );
    let (_, report) = app.get_json(&format!("{}/migration/{}/postOpReport", app.site_path(&dest), done["migrationId"].as_str().unwrap())).await;
    assert!(report["entities"]["groups"]["skipped"].as_array().unwrap().iter().any(|s| s["key"] == "release-managers"));
    // A skipped space skips its pages and their comments: validation decoded those parts, and
    // planned what the job did.
    assert!(report["entities"]["pages"]["skip"].as_u64().unwrap() > 0, "{}", report["entities"]);
    assert_eq!(report["entities"], revalidated["plan"], "the plan carried out is the plan validated");
}

#[tokio::test]
async fn refusals_create_nothing() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.backup.limits.jira_data = 10;
    })
    .await;
    let source = app.seed_site("Source", |o| o.issues = 10).await;
    let wiki = app.create_policy(&source, json!({"product": "CONFLUENCE", "includeAttachments": false})).await;
    let good = app.finished_backup(&app.start_backup(&wiki).await).await;
    let good = good["backupId"].as_str().unwrap().to_owned();
    let jira = app.create_policy(&source, json!({"product": "JIRA"})).await;
    let failed = app.finished_backup(&app.start_backup(&jira).await).await;
    assert_eq!(failed["status"], "FAILED");
    let dest = app.create_site("Destination").await;
    let jira_only = create_site_with(&app, "Jira only", "PREMIUM", "eu-1", false, &["JIRA"]).await;

    let cases: Vec<(String, Value, u16, &str)> = vec![
        (dest.clone(), json!({"backupId": failed["backupId"], "product": "JIRA"}), 409, "BACKUP_NOT_RESTORABLE"),
        (dest.clone(), json!({"backupId": "nope", "product": "CONFLUENCE"}), 404, "BACKUP_NOT_FOUND"),
        (jira_only.clone(), json!({"backupId": good, "product": "CONFLUENCE"}), 404, "DESTINATION_APP_NOT_FOUND"),
        (dest.clone(), json!({"backupId": good, "product": "JIRA"}), 400, "PRODUCT_MISMATCH"),
        (dest.clone(), json!({"backupId": good, "product": "CONFLUENCE", "includeAttachments": true}), 400, "ATTACHMENTS_NOT_IN_BACKUP"),
        (source.clone(), json!({"backupId": good, "product": "CONFLUENCE"}), 400, "SAME_SITE"),
        ("unknown".into(), json!({"backupId": good, "product": "CONFLUENCE"}), 404, "SITE_NOT_FOUND"),
    ];
    for (site, body, status, code) in cases {
        let (got, answer) = restore(&app, &site, body.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }
    // A Jira destination with data.
    let (status, body) = app.post_json(&format!("{}/jira/projects", app.site_path(&dest)), json!({"key": "OWN", "name": "Own"})).await;
    assert_eq!(status, 201, "{body}");
    sqlx::query("UPDATE backups SET status = 'COMPLETE' WHERE backup_id = ?").bind(failed["backupId"].as_str()).execute(&app.db).await.unwrap();
    let (status, body) = restore(&app, &dest, json!({"backupId": failed["backupId"], "product": "JIRA"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("DESTINATION_HAS_DATA")), "{body}");
    // A deactivated destination app.
    sqlx::query("UPDATE apps SET state = 'DEACTIVATED' WHERE cloud_id = ? AND product = 'CONFLUENCE'").bind(&dest).execute(&app.db).await.unwrap();
    let (status, body) = restore(&app, &dest, json!({"backupId": good, "product": "CONFLUENCE"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("DESTINATION_DEACTIVATED")), "{body}");
    sqlx::query("UPDATE apps SET state = 'ACTIVE' WHERE cloud_id = ?").bind(&dest).execute(&app.db).await.unwrap();
    // Expired.
    sqlx::query("UPDATE backups SET expiry_time = 0 WHERE backup_id = ?").bind(&good).execute(&app.db).await.unwrap();
    let (status, body) = restore(&app, &dest, json!({"backupId": good, "product": "CONFLUENCE"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("BACKUP_EXPIRED")), "{body}");
    let (_, list) = app.get_json(&format!("/orgs/{}/restores", app.org_id)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "no restore was created");
}

#[tokio::test]
async fn a_busy_destination_answers_409() {
    // A server that runs no jobs keeps the destination's backup queued, holding the app's lock.
    let app = spawn_app_with(|c| c.backup.jobs.concurrency = 0).await;
    let source = app.create_site("Source").await;
    let dest = app.create_site("Destination").await;
    let dest_policy = app.create_policy(&dest, json!({"product": "JIRA"})).await;
    app.start_backup(&dest_policy).await;
    sqlx::query(
        "INSERT INTO backups (backup_id, org_id, policy_id, cloud_id, product, status, origin, include_attachments,
             include_users_and_groups, include_personal_spaces, created_at, created_by, expiry_time)
         VALUES ('0190b6c8-7d1e-7000-8000-00000000000a', ?, NULL, ?, 'JIRA', 'COMPLETE', 'MANUAL', 0, 0, 0, 0, 'x', 9999999999999)",
    )
    .bind(&app.org_id)
    .bind(&source)
    .execute(&app.db)
    .await
    .unwrap();
    let (status, body) = restore(&app, &dest, json!({"backupId": "0190b6c8-7d1e-7000-8000-00000000000a", "product": "JIRA"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("APP_BUSY")), "{body}");
}

#[tokio::test]
async fn a_failure_mid_restore_leaves_the_destination_unchanged() {
    let app = spawn_app_with(restores_again).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (_, before) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    let consents = ["Consent_Conflicting_Group_Check", "Accept_Custom_Group_Check"];
    let triggers = triggers(&app).await;

    // A damaged part: the restore fails and nothing of it stays. The part is damaged after
    // validation: the consent, with the destination unchanged, does not read the archive again
    // (validation facts), so the restore job is the first to meet the damage — after it has written
    // the parts before it.
    let (_, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    let id = r["restoreId"].as_str().unwrap().to_owned();
    let parts = app.data_dir.join("managed-storage/backups").join(&backup).join("parts");
    let mut names: Vec<_> = std::fs::read_dir(&parts).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let victim = names.iter().find(|p| p.to_str().unwrap().contains("issue_comments")).unwrap().clone();
    let original = std::fs::read(&victim).unwrap();
    let mut bad = original.clone();
    bad[20] ^= 0xff;
    std::fs::write(&victim, &bad).unwrap();
    let (_, r) = revalidate(&app, &dest, &id, &consents).await;
    assert_eq!(r["status"], "IN_PROGRESS", "{r}");
    let done = finished_restore(&app, &id).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert!(done["statusMessage"].as_str().unwrap().contains("issue_comments"), "names the part: {done}");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after, before, "projects and issues written before the bad part were rolled back");
    std::fs::write(&victim, &original).unwrap();

    // A missing attachment blob: the same.
    let blobs = app.data_dir.join("managed-storage/blobs");
    let shard = std::fs::read_dir(&blobs).unwrap().next().unwrap().unwrap().path();
    let blob = std::fs::read_dir(&shard).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&blob).unwrap();
    let (_, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    let id = r["restoreId"].as_str().unwrap().to_owned();
    revalidate(&app, &dest, &id, &consents).await;
    let done = finished_restore(&app, &id).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["statusCode"], "BLOB_MISSING");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after, before);
    let (_, apps) = app.get_json(&format!("{}/apps", app.site_path(&dest))).await;
    assert!(apps["items"].as_array().unwrap().iter().all(|a| a["busy"] == false), "the lock is released");
    pooled_connections_have_sqlite_defaults(&app).await;
    assert_eq!(self::triggers(&app).await, triggers, "the change-mark triggers rolled back with the rest");
}

/// Every trigger of the server's database, by name, with its definition.
async fn triggers(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetch_all(&app.server_db).await.unwrap()
}

/// A restore's write connection goes back to the pool with SQLite's defaults (its bulk-write page
/// cache, in-memory statement journals and skipped checkpoint are its own), whichever way it ended.
async fn pooled_connections_have_sqlite_defaults(app: &TestApp) {
    // Every connection the server's pool may hold (8); one still being set back is waited for.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(tokio::time::timeout(Duration::from_secs(10), app.server_db.acquire()).await.expect("a pooled connection").unwrap());
    }
    for conn in &mut held {
        let pragma = |name: &'static str| format!("PRAGMA {name}");
        let cache: i64 = sqlx::query_scalar(&pragma("cache_size")).fetch_one(&mut **conn).await.unwrap();
        let temp_store: i64 = sqlx::query_scalar(&pragma("temp_store")).fetch_one(&mut **conn).await.unwrap();
        let autocheckpoint: i64 = sqlx::query_scalar(&pragma("wal_autocheckpoint")).fetch_one(&mut **conn).await.unwrap();
        assert_eq!((cache, temp_store, autocheckpoint), (-2000, 0, 1000));
    }
}

#[tokio::test]
async fn a_full_confluence_restore_gives_the_source_digest() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, source_digest) = source_backup(&app, "CONFLUENCE").await;
    let dest = create_site_with(&app, "Wiki copy", "PREMIUM", "shard-1", false, &["CONFLUENCE"]).await;
    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "CONFLUENCE", "includeAttachments": true, "includeUsersAndGroups": true, "includePersonalSpaces": true})).await;
    assert_eq!(status, 202, "{r}");
    let id = r["restoreId"].as_str().unwrap().to_owned();
    let consents: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "WARNING")
        .map(|c| if c["name"] == "Custom_Group_Check" { "Accept_Custom_Group_Check" } else { c["consent"].as_str().unwrap() })
        .collect();
    revalidate(&app, &dest, &id, &consents).await;
    let done = finished_restore(&app, &id).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    let (_, after) = app.get_json(&format!("{}/apps/CONFLUENCE/digest", app.site_path(&dest))).await;
    assert_eq!(after["counts"], source_digest["counts"], "{}", done["plan"]);
    assert_eq!(after["sha256"], source_digest["sha256"], "page trees, comments and attachments as in the source");
}

/// Restores into both apps of a site at once take turns to write (one write transaction at a time)
/// and both end COMPLETE with the source's content.
#[tokio::test]
async fn restores_of_both_apps_at_once_take_turns_and_complete() {
    let app = spawn_app_with(quick_jobs).await;
    let source = app
        .seed_site("Both", |o| {
            o.issues = 150;
            o.comments = 150;
            o.pages = 60;
            o.attachments = 4;
            o.attachment_size = 2048;
        })
        .await;
    let dest = create_site_with(&app, "Both copy", "PREMIUM", "shard-1", false, &["JIRA", "CONFLUENCE"]).await;
    let mut restores = Vec::new();
    for product in ["JIRA", "CONFLUENCE"] {
        let policy = app.create_policy(&source, json!({"product": product, "includeAttachments": true})).await;
        let backup = app.finished_backup(&app.start_backup(&policy).await).await;
        assert_eq!(backup["status"], "COMPLETE", "{backup}");
        let (_, digest) = app.get_json(&format!("{}/apps/{product}/digest", app.site_path(&source))).await;
        let (status, r) = restore(&app, &dest, json!({"backupId": backup["backupId"], "product": product, "includeAttachments": true})).await;
        assert_eq!(status, 202, "{r}");
        restores.push((product, r, digest));
    }
    // Consent to both, so that both jobs are queued together.
    for (_, r, _) in &restores {
        if r["status"] == "AWAITING_CONSENT" {
            let consents = consent_to_every_warning(r);
            let (status, body) = revalidate(&app, &dest, r["restoreId"].as_str().unwrap(), &consents).await;
            assert_eq!(status, 202, "{body}");
        }
    }
    for (product, r, digest) in &restores {
        let done = finished_restore(&app, r["restoreId"].as_str().unwrap()).await;
        assert_eq!(done["status"], "COMPLETE", "{done}");
        let (_, after) = app.get_json(&format!("{}/apps/{product}/digest", app.site_path(&dest))).await;
        assert_eq!(after["sha256"], digest["sha256"], "{product}");
    }

    // An admin of the destination's Confluence only lists that app's restores (filtered in SQL).
    let wiki = lifeboat_domain::service::identity::create_admin(&app.db, "wiki@acme.test", "Acme", PASSWORD, false).await.unwrap();
    let confluence = lifeboat_domain::model::Product::Confluence;
    lifeboat_domain::store::identity::add_app_admin(&app.db, &app.org_id, &wiki.admin_id, Some(&dest), Some(confluence)).await.unwrap();
    let token = lifeboat_domain::service::identity::create_token(&app.db, &wiki.email, "t").await.unwrap().1;
    let (_, listed) = app.get_json_as(&format!("/orgs/{}/restores", app.org_id), &wiki.email, &token).await;
    let products: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|r| r["product"].as_str().unwrap()).collect();
    assert_eq!(products, ["CONFLUENCE"], "{listed}");
    let (_, all) = app.get_json(&format!("/orgs/{}/restores", app.org_id)).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "an admin of every app sees both");
}

/// A consent does not read the whole backup again when the destination has not changed since the
/// validation (its facts are kept); when it has changed, validation reads every part again. Shown
/// with a part deleted after validation: the first restore passes revalidation and fails in its job
/// (which verifies every part), the second fails revalidation itself.
#[tokio::test]
async fn revalidation_reads_the_archive_again_only_when_the_destination_changed() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "CONFLUENCE").await;
    let dest = create_site_with(&app, "Wiki twin", "PREMIUM", "shard-1", false, &["CONFLUENCE"]).await;
    let body = json!({"backupId": backup, "product": "CONFLUENCE", "includeAttachments": true, "includeUsersAndGroups": true, "includePersonalSpaces": true});
    let (_, a) = restore(&app, &dest, body.clone()).await;
    let (_, b) = restore(&app, &dest, body).await;
    assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("AWAITING_CONSENT"), Some("AWAITING_CONSENT")), "{a} {b}");
    let consents = consent_to_every_warning(&a);
    let parts = app.data_dir.join("managed-storage/backups").join(&backup).join("parts");
    let victim = std::fs::read_dir(&parts).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_str().unwrap().contains("pages-")).unwrap();
    std::fs::remove_file(&victim).unwrap();

    // Unchanged destination: the consent is taken on the kept facts; the job finds the gap.
    let (status, ra) = revalidate(&app, &dest, a["restoreId"].as_str().unwrap(), &consents).await;
    assert_eq!(status, 202, "{ra}");
    assert_ne!(ra["status"], "FAILED", "{ra}");
    let done = finished_restore(&app, a["restoreId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert!(done["statusMessage"].as_str().unwrap().contains("The destination is unchanged"), "{done}");

    // A changed destination (a new space): validation reads the archive again and finds the gap.
    let (status, space) = app.post_json(&format!("{}/confluence/spaces", app.site_path(&dest)), json!({"key": "NEWHERE", "name": "New here"})).await;
    assert_eq!(status, 201, "{space}");
    let (status, rb) = revalidate(&app, &dest, b["restoreId"].as_str().unwrap(), &consents).await;
    assert_eq!(status, 202, "{rb}");
    assert_eq!((rb["status"].as_str(), rb["statusCode"].as_str()), (Some("FAILED"), Some("PART_MISSING")), "{rb}");
}

/// An archive is restored only as its own product: a Jira backup whose manifest was rewritten to
/// say Confluence (its parts cut down to the directory's, so the manifest is whole otherwise) fails
/// validation and writes nothing. (A manifest listing another product's kind of part is refused
/// when it is read: `archive::tests`.)
#[tokio::test]
async fn an_archive_of_another_product_is_refused() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA", "CONFLUENCE"]).await;
    let (_, before) = app.get_json(&format!("{}/apps/CONFLUENCE/digest", app.site_path(&dest))).await;
    let path = app.data_dir.join("managed-storage/backups").join(&backup).join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let directory = ["users", "groups", "memberships", "access"];
    let parts: Vec<Value> = manifest["parts"].as_array().unwrap().iter().filter(|p| directory.contains(&p["kind"].as_str().unwrap())).cloned().collect();
    assert!(!parts.is_empty());
    let counts: serde_json::Map<String, Value> =
        manifest["counts"].as_object().unwrap().iter().filter(|(k, _)| directory.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    manifest["product"] = json!("CONFLUENCE");
    manifest["parts"] = json!(parts);
    manifest["counts"] = json!(counts);
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA", "includeUsersAndGroups": true})).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!((r["status"].as_str(), r["statusCode"].as_str()), (Some("FAILED"), Some("MANIFEST_INVALID")), "{r}");
    assert!(r["statusMessage"].as_str().unwrap().contains("a CONFLUENCE backup, not JIRA"), "{r}");
    let (_, after) = app.get_json(&format!("{}/apps/CONFLUENCE/digest", app.site_path(&dest))).await;
    assert_eq!(after, before);
}


/// An archive whose manifest names another site or organization than the backup it is stored as
/// has been tampered with (rights were checked on the backup's app): refused at validation, before
/// a record is read. (The job reads the manifest through the same `load`.)
#[tokio::test]
async fn an_archive_naming_another_site_or_organization_is_refused() {
    let app = spawn_app_with(restores_again).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let path = app.data_dir.join("managed-storage/backups").join(&backup).join("manifest.json");
    let original = std::fs::read(&path).unwrap();
    for (field, value) in [("cloudId", dest.clone()), ("orgId", "another-organization".to_owned())] {
        let mut manifest: Value = serde_json::from_slice(&original).unwrap();
        assert_ne!(manifest[field], json!(value));
        manifest[field] = json!(value);
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
        assert_eq!(status, 202, "{r}");
        assert_eq!((r["status"].as_str(), r["statusCode"].as_str()), (Some("FAILED"), Some("MANIFEST_INVALID")), "{field}: {r}");
        assert!(r["statusMessage"].as_str().unwrap().contains("another organization or site"), "{r}");
    }
    // The untouched manifest restores (the check is not refusing every archive).
    std::fs::write(&path, &original).unwrap();
    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["status"], "AWAITING_CONSENT", "{r}");
}
/// Kinds of several parts (over 8 MiB of records each) are read as one stream, part after part: a
/// part damaged in the middle of such a run fails the restore with the destination unchanged, and
/// whole, every part's records arrive.
#[tokio::test]
async fn kinds_of_several_parts_restore_in_full_or_not_at_all() {
    let app = spawn_app_with(restores_again).await;
    let source = app
        .seed_site("Big", |o| {
            o.issues = 15_000;
            o.comments = 20_000;
            o.pages = 0;
            o.attachments = 0;
        })
        .await;
    let policy = app.create_policy(&source, json!({"product": "JIRA"})).await;
    let backup = app.finished_backup(&app.start_backup(&policy).await).await;
    assert_eq!(backup["status"], "COMPLETE", "{backup}");
    let backup_id = backup["backupId"].as_str().unwrap().to_owned();
    let parts = app.data_dir.join("managed-storage/backups").join(&backup_id).join("parts");
    let names: Vec<String> = std::fs::read_dir(&parts).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    for kind in ["issues-", "issue_comments-"] {
        assert!(names.iter().filter(|n| n.starts_with(kind)).count() >= 2, "{kind} in several parts: {names:?}");
    }
    let (_, source_digest) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&source))).await;
    let dest = create_site_with(&app, "Big copy", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (_, before) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;

    // The second issues part damaged after validation: the job meets it after writing the first.
    let (_, r) = restore(&app, &dest, json!({"backupId": backup_id, "product": "JIRA"})).await;
    let victim = parts.join("issues-000002.ndjson.zst");
    let original = std::fs::read(&victim).unwrap();
    let mut bad = original.clone();
    bad[40] ^= 0xff;
    std::fs::write(&victim, &bad).unwrap();
    let (_, revalidated) = revalidate(&app, &dest, r["restoreId"].as_str().unwrap(), &consent_to_every_warning(&r)).await;
    assert_eq!(revalidated["status"], "IN_PROGRESS", "{revalidated}");
    let done = finished_restore(&app, r["restoreId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert!(done["statusMessage"].as_str().unwrap().contains("issues-000002"), "names the part: {done}");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after, before, "the first issues part, written, was rolled back");
    std::fs::write(&victim, &original).unwrap();

    // Whole: every record of every part.
    let (_, r) = restore(&app, &dest, json!({"backupId": backup_id, "product": "JIRA"})).await;
    let planned = r["plan"].clone();
    revalidate(&app, &dest, r["restoreId"].as_str().unwrap(), &consent_to_every_warning(&r)).await;
    let done = finished_restore(&app, r["restoreId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["progress"]["percent"], 100, "{done}");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after["counts"], source_digest["counts"]);
    assert_eq!(after["sha256"], source_digest["sha256"]);
    let (_, report) = app.get_json(&format!("{}/migration/{}/postOpReport", app.site_path(&dest), done["migrationId"].as_str().unwrap())).await;
    assert_eq!(report["entities"]["issues"]["create"], 15_000);
    assert_eq!(report["entities"], planned, "the plan carried out is the plan validated");
}

/// While nothing is skipped under a parent, validation counts issues from the manifest without
/// decompressing their parts: a manifest that lies about a part's records passes validation with
/// the lie in its plan, and the job, which decodes every record, fails on it with the destination
/// unchanged.
#[tokio::test]
async fn a_record_count_that_lies_passes_validation_and_fails_the_job() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (_, before) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    let path = app.data_dir.join("managed-storage/backups").join(&backup).join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let part = manifest["parts"].as_array_mut().unwrap().iter_mut().find(|p| p["kind"] == "issues").unwrap();
    part["records"] = json!(part["records"].as_u64().unwrap() + 1);
    let name = part["name"].as_str().unwrap().to_owned();
    manifest["counts"]["issues"] = json!(121);
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["status"], "AWAITING_CONSENT", "{r}");
    assert_eq!(r["plan"]["issues"]["create"], 121, "counted from the manifest, the part not decompressed: {}", r["plan"]);
    let (_, r) = revalidate(&app, &dest, r["restoreId"].as_str().unwrap(), &consent_to_every_warning(&r)).await;
    assert_eq!(r["status"], "IN_PROGRESS", "{r}");
    let done = finished_restore(&app, r["restoreId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    let message = done["statusMessage"].as_str().unwrap();
    assert!(message.contains(&name) && message.contains("120 records"), "names the part and what it held: {done}");
    let (_, after) = app.get_json(&format!("{}/apps/JIRA/digest", app.site_path(&dest))).await;
    assert_eq!(after, before);
}

/// A restore is stored once validated, in one write: with SQLite's writer held by another
/// connection (as a long restore's write transaction holds it), validation gives up its change
/// generation (an optimisation) after one busy timeout, reads the archive all the same, and its
/// outcome, the one write, is refused after another: 503, and no restore is left behind (a restore
/// stored first would have waited before validation read anything, and been left VALIDATING when
/// its clean-up could not be written either). The archive's first part is a FIFO, so the test
/// sees validation open it.
#[tokio::test]
async fn a_create_validates_while_another_holds_the_writer_and_leaves_nothing_when_it_cannot_write() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let archive = app.data_dir.join("managed-storage/backups").join(&backup);
    let manifest: Value = serde_json::from_slice(&std::fs::read(archive.join("manifest.json")).unwrap()).unwrap();
    let first = archive.join("parts").join(manifest["parts"][0]["name"].as_str().unwrap());
    std::fs::remove_file(&first).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&first).status().unwrap().success());

    let mut holder = app.db.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *holder).await.unwrap();
    // Opening the FIFO to write returns once validation has opened it to read; closed at once, it
    // reads as an empty part. (A plain thread: one never opened must not hold the runtime up.)
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let fifo = first.clone();
    std::thread::spawn(move || {
        let _ = opened_tx.send(std::fs::OpenOptions::new().write(true).open(fifo).is_ok());
    });
    let started = std::time::Instant::now();
    let path = format!("{}/restores", app.site_path(&dest));
    let (answer, opened) = tokio::join!(
        app.api(reqwest::Method::POST, &path).json(&json!({"backupId": backup, "product": "JIRA"})).send(),
        tokio::time::timeout(lifeboat_domain::store::BUSY_TIMEOUT + Duration::from_secs(5), opened_rx),
    );
    assert!(matches!(opened, Ok(Ok(true))), "validation did not read the archive while the writer was held: {opened:?}");
    let answer = answer.unwrap();
    let waited = started.elapsed();
    assert_eq!(answer.status(), 503);
    let refused: Value = answer.json().await.unwrap();
    assert_eq!(refused["code"], "DATABASE_BUSY", "{refused}");
    let timeout = lifeboat_domain::store::BUSY_TIMEOUT;
    assert!(waited >= 2 * timeout && waited < 2 * timeout + Duration::from_secs(5), "answered after {waited:?}: two busy timeouts");
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    let (status, listed) = app.get_json(&format!("/orgs/{}/restores", app.org_id)).await;
    assert_eq!(status, 200, "{listed}");
    assert!(!listed.to_string().contains(&backup), "the refused create left a restore behind: {listed}");

    // Once the writer is free, the same request stores the restore in its validated state (its
    // first part now missing: the backup cannot be read).
    std::fs::remove_file(&first).unwrap();
    let (status, r) = app.post_json(&path, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!(status, 202, "{r}");
    assert_eq!((r["status"].as_str(), r["statusCode"].as_str()), (Some("FAILED"), Some("PART_MISSING")), "{r}");
    let (_, listed) = app.get_json(&format!("/orgs/{}/restores", app.org_id)).await;
    assert_eq!(listed.to_string().matches(r["restoreId"].as_str().unwrap()).count(), 1, "{listed}");
}

/// Two revalidations of one restore: the one whose outcome comes second finds the restore moved on
/// and answers 409, leaving nothing of its own — no lock on the app, no job (it once locked the app
/// and queued a job for a restore its write had not changed: the job did nothing and the app stayed
/// locked). The test moves the restore on (FAILED, as a revalidation whose archive read failed
/// would) inside a write transaction it holds, so the revalidation reads the restore awaiting
/// consent and then waits, at its first write, for that change to commit.
#[tokio::test]
async fn a_revalidation_that_finds_the_restore_moved_on_answers_409_and_locks_nothing() {
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!((status, r["status"].as_str()), (202, Some("AWAITING_CONSENT")), "{r}");
    let id = r["restoreId"].as_str().unwrap().to_owned();

    let mut holder = app.db.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *holder).await.unwrap();
    sqlx::query("UPDATE restores SET status = 'FAILED', status_code = 'STORAGE_ERROR' WHERE restore_id = ?")
        .bind(&id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let consents = consent_to_every_warning(&r);
    let commit_later = async {
        // Time for the revalidation to read the restore and reach its first write.
        tokio::time::sleep(Duration::from_secs(1)).await;
        sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    };
    let ((status, body), ()) = tokio::join!(revalidate(&app, &dest, &id, &consents), commit_later);
    drop(holder);
    assert_eq!((status, body["code"].as_str()), (409, Some("RESTORE_NOT_AWAITING_CONSENT")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("moved it on"), "refused at its write, not before validating: {body}");

    let (_, now) = app.get_json(&format!("/orgs/{}/restores/{id}", app.org_id)).await;
    assert_eq!((now["status"].as_str(), now["statusCode"].as_str()), (Some("FAILED"), Some("STORAGE_ERROR")), "{now}");
    let locks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_operations WHERE cloud_id = ?").bind(&dest).fetch_one(&app.db).await.unwrap();
    assert_eq!(locks, 0, "the destination app was left locked");
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE subject_id = ?").bind(&id).fetch_one(&app.db).await.unwrap();
    assert_eq!(jobs, 0, "a job was queued for the restore");
}

/// Starting a restore — consenting to its warnings — copies the backed-up app's data, so it needs
/// admin rights on that app as well as on the destination, as creating the restore does: an admin
/// of the destination alone cannot start another admin's restore.
#[tokio::test]
async fn consenting_needs_rights_on_the_backed_up_app_too() {
    use lifeboat_domain::service::identity;
    let app = spawn_app_with(quick_jobs).await;
    let (_source, backup, _) = source_backup(&app, "JIRA").await;
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (_, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!(r["status"], "AWAITING_CONSENT", "{r}");
    let id = r["restoreId"].as_str().unwrap();
    let consents = consent_to_every_warning(&r);

    let dana = identity::create_admin(&app.db, "dana@acme.test", "Acme", PASSWORD, false).await.unwrap();
    lifeboat_domain::store::identity::add_app_admin(&app.db, &app.org_id, &dana.admin_id, Some(&dest), Some(lifeboat_domain::model::Product::Jira))
        .await
        .unwrap();
    let token = identity::create_token(&app.db, &dana.email, "t").await.unwrap().1;
    let path = format!("{}/restores/revalidate", app.site_path(&dest));
    let res = app.api_as(reqwest::Method::POST, &path, &dana.email, &token).json(&json!({"restoreId": id, "consent": consents})).send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!((status, body["code"].as_str()), (403, Some("NOT_APP_ADMIN")), "{body}");
    let (_, now) = app.get_json(&format!("/orgs/{}/restores/{id}", app.org_id)).await;
    assert_eq!(now["status"], "AWAITING_CONSENT", "{now}");

    // An admin of both apps starts it.
    let (status, r) = revalidate(&app, &dest, id, &consents).await;
    assert_eq!((status, r["status"].as_str()), (202, Some("IN_PROGRESS")), "{r}");
}

/// Edits a backup's archive in a filesystem storage as its organization could: every attachment
/// with bytes now names `sha` (of `size` bytes), and the archive holds junk of that size under that
/// name; the parts' checksums and the manifest are made to match, so only the blob's bytes are wrong.
fn forge_attachments(storage_dir: &std::path::Path, backup: &str, sha: &str, blob: &[u8]) {
    let size = blob.len() as u64;
    use sha2::{Digest, Sha256};
    let archive = storage_dir.join("backups").join(backup);
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(archive.join("manifest.json")).unwrap()).unwrap();
    let mut forged = 0;
    for part in manifest["parts"].as_array_mut().unwrap().iter_mut().filter(|p| p["kind"] == "attachments") {
        let path = archive.join("parts").join(part["name"].as_str().unwrap());
        let raw = zstd::decode_all(&std::fs::read(&path).unwrap()[..]).unwrap();
        let mut lines = Vec::new();
        for line in raw.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let mut record: Value = serde_json::from_slice(line).unwrap();
            if record["bytesIncluded"] == true {
                record["sha256"] = json!(sha);
                record["size"] = json!(size);
                forged += 1;
            }
            lines.extend(serde_json::to_vec(&record).unwrap());
            lines.push(b'\n');
        }
        let stored = zstd::encode_all(&lines[..], 1).unwrap();
        std::fs::write(&path, &stored).unwrap();
        part["rawSize"] = json!(lines.len());
        part["size"] = json!(stored.len());
        part["sha256"] = json!(hex::encode(Sha256::digest(&stored)));
    }
    assert!(forged > 0, "the backup has attachments with bytes");
    manifest["blobs"] = json!({"count": 1, "bytes": size});
    std::fs::write(archive.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let path = storage_dir.join("blobs").join(&sha[..2]).join(sha);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, blob).unwrap();
}

/// A blob of another site of the organization ("Other", seeded with `seed_other`): in the server's
/// store and, backed up, in managed storage's index. Returns its SHA-256 and bytes.
async fn another_apps_blob(app: &TestApp, seed_other: impl FnOnce(&mut lifeboat_domain::service::seed::SeedOptions)) -> (String, Vec<u8>) {
    let other = app.seed_site("Other", seed_other).await;
    let sha: String = sqlx::query_scalar("SELECT sha256 FROM attachments WHERE cloud_id = ? AND product = 'JIRA' ORDER BY size DESC LIMIT 1")
        .bind(&other)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let bytes = std::fs::read(app.data_dir.join("blobs").join(&sha[..2]).join(&sha)).unwrap();
    let backup = app.finished_backup(&app.start_backup(&app.create_policy(&other, json!({"product": "JIRA"})).await).await).await;
    assert_eq!(backup["status"], "COMPLETE", "{backup}");
    (sha, bytes)
}

/// A complete Jira backup of `cloud` in a filesystem storage of its own under `root` (the
/// organization's storage, which its admin can write to): the storage's directory and the backup.
async fn backup_in_own_storage(app: &TestApp, root: &std::path::Path, cloud: &str) -> (std::path::PathBuf, String) {
    let dir = root.join("own");
    let (status, storage) = app
        .post_json(&format!("/orgs/{}/storages", app.org_id), json!({"storageType": "filesystem", "path": dir, "cloudId": cloud}))
        .await;
    assert_eq!(status, 201, "{storage}");
    let policy = app.create_policy(cloud, json!({"product": "JIRA", "storageId": storage["storageId"]})).await;
    let backup = app.finished_backup(&app.start_backup(&policy).await).await;
    assert_eq!(backup["status"], "COMPLETE", "{backup}");
    (dir, backup["backupId"].as_str().unwrap().to_owned())
}

/// Imports a Jira backup of `cloud` from its external storage; the import once ended.
async fn finished_import(app: &TestApp, cloud: &str, backup: &str) -> Value {
    let (status, imports) = app
        .post_json(&format!("/orgs/{}/imports", app.org_id), json!([{"product": "JIRA", "cloudId": cloud, "backupId": backup}]))
        .await;
    assert_eq!(status, 202, "{imports}");
    let import_id = imports[0]["importId"].as_str().unwrap();
    app.wait_json(&format!("/orgs/{}/cloud/{cloud}/imports/{import_id}", app.org_id), 60, |i| i["status"] != "IN_PROGRESS").await
}

/// The server keeps each distinct blob once for every app of every organization, so a SHA-256 is
/// no proof of having the bytes. An admin who edits a backup in the organization's own storage to
/// name a blob of another app — here another site of the same organization, which the admin need
/// not administer — gets neither a restore nor an import of it: the archive's bytes are read and
/// hashed (they once were not, when the server's store had the blob, and the restored attachment
/// served the other app's bytes). Another organization's blob is the same case.
#[tokio::test]
async fn an_archive_naming_a_blob_of_another_app_gets_neither_a_restore_nor_an_import() {
    let (app, _roots, root) = spawn_app_with_storage_root().await;
    let cloud = app
        .seed_site("Source", |o| {
            o.issues = 20;
            o.attachments = 2;
            o.attachment_size = 1024;
        })
        .await;
    let (sha, bytes) = another_apps_blob(&app, |o| {
        o.issues = 5;
        o.attachments = 1;
        o.attachment_size = 2000;
        o.seed = 99;
    })
    .await;
    let size = bytes.len() as u64;
    let (dir, backup) = backup_in_own_storage(&app, &root, &cloud).await;
    forge_attachments(&dir, &backup, &sha, &vec![b'x'; size as usize]);

    // A restore from the organization's storage.
    let dest = create_site_with(&app, "Destination", "PREMIUM", "shard-1", false, &["JIRA"]).await;
    let (status, r) = restore(&app, &dest, json!({"backupId": backup, "product": "JIRA"})).await;
    assert_eq!(status, 202, "{r}");
    let id = r["restoreId"].as_str().unwrap().to_owned();
    if r["status"] == "AWAITING_CONSENT" {
        revalidate(&app, &dest, &id, &consent_to_every_warning(&r)).await;
    }
    let done = finished_restore(&app, &id).await;
    assert_eq!((done["status"].as_str(), done["statusCode"].as_str()), (Some("FAILED"), Some("BLOB_CORRUPT")), "{done}");
    let held: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE sha256 = ? AND cloud_id = ?").bind(&sha).bind(&dest).fetch_one(&app.db).await.unwrap();
    assert_eq!(held, 0, "an attachment of the destination now carries the other app's blob");
    let junk = app.data_dir.join("blobs").join(&sha[..2]).join(&sha);
    assert!(std::fs::read(&junk).unwrap() == bytes, "the junk replaced the blob");

    // An import of the same archive into managed storage.
    let import = finished_import(&app, &cloud, &backup).await;
    assert_eq!(import["status"], "FAILED", "{import}");
    let message = import["statusMessage"].as_str().unwrap_or_default();
    assert!(message.contains(&sha) && message.contains("not the one its archive names"), "{import}");
}

/// An import of an archive naming, with its real bytes, a blob that managed storage holds for
/// another app reads and verifies it, and counts it in `copiedBytes` as if copied: the figure does
/// not tell the importer that some other app has a file of those bytes.
#[tokio::test]
async fn an_import_does_not_tell_which_blobs_managed_storage_has() {
    let (app, _roots, root) = spawn_app_with_storage_root().await;
    let cloud = app.seed_site("Source", |o| o.issues = 10).await;
    let (sha, bytes) = another_apps_blob(&app, |o| {
        o.issues = 3;
        o.attachments = 1;
        o.attachment_size = 300_000;
        o.seed = 7;
    })
    .await;
    assert!(bytes.len() > 100_000, "{}", bytes.len());
    let (dir, backup) = backup_in_own_storage(&app, &root, &cloud).await;
    forge_attachments(&dir, &backup, &sha, &bytes);

    let import = finished_import(&app, &cloud, &backup).await;
    assert_eq!(import["status"], "COMPLETE", "{import}");
    // The parts and the manifest are a few KB; without the blob counted the figure is far below.
    assert!(import["copiedBytes"].as_u64().unwrap() >= bytes.len() as u64, "{import}");
}
