//! External storages, exports and imports: on a directory and on a real S3-compatible server
//! (moto, installed by `scripts/setup.sh --for-tests`).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

const SECRET: &str = "wJalrXUtnFEMI-secret-never-shown";

/// A moto S3 server on a free port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> String {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return p;
    }
    let venv = std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/lifeboat-tools/moto/bin/moto_server");
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    "moto_server".into()
}

async fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(moto_binary())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server is not installed: run scripts/setup.sh --for-tests (or set MOTO_SERVER)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let moto = Moto { child, endpoint };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(&moto.endpoint).send().await.is_ok() {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start");
}

async fn create_bucket(moto: &Moto, bucket: &str) {
    let res = reqwest::Client::new().put(format!("{}/{bucket}", moto.endpoint)).send().await.unwrap();
    assert!(res.status().is_success(), "bucket creation: {}", res.status());
}

/// Backs up the app, exports the backup to the policy's external storage, imports it back, and
/// checks that the imported backup is a complete, verifiable copy.
async fn export_import_round_trip(app: &TestApp, cloud: &str, storage_id: &str) -> (serde_json::Value, serde_json::Value) {
    let managed = app.create_policy(cloud, json!({"product": "JIRA"})).await;
    let external = app.create_policy(cloud, json!({"product": "JIRA", "storageId": storage_id})).await;
    let backup = app.start_backup(&managed).await;
    let b = app.finished_backup(&backup).await;
    assert_eq!(b["status"], "COMPLETE", "{b}");

    // A backup on the external policy writes straight into the external storage.
    let direct = app.finished_backup(&app.start_backup(&external).await).await;
    assert_eq!(direct["status"], "COMPLETE", "{direct}");
    assert_eq!(direct["storageId"], storage_id);

    let (status, exports) = app
        .post_json(&format!("/orgs/{}/exports", app.org_id), json!([{"product": "JIRA", "cloudId": cloud, "backupId": backup}]))
        .await;
    assert_eq!(status, 202, "{exports}");
    let export_id = exports[0]["exportId"].as_str().unwrap().to_owned();
    assert_eq!(exports[0]["storageId"], storage_id);
    let export = app
        .wait_json(&format!("/orgs/{}/cloud/{cloud}/exports/{export_id}", app.org_id), 60, |e| e["status"] != "IN_PROGRESS")
        .await;
    assert_eq!(export["status"], "COMPLETE", "{export}");
    let (_, list) = app.get_json(&format!("/orgs/{}/exports?productType=JIRA", app.org_id)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = app.get_json(&format!("/orgs/{}/exports?productType=CONFLUENCE", app.org_id)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    let (status, imports) = app
        .post_json(&format!("/orgs/{}/imports", app.org_id), json!([{"product": "JIRA", "cloudId": cloud, "backupId": backup}]))
        .await;
    assert_eq!(status, 202, "{imports}");
    let import_id = imports[0]["importId"].as_str().unwrap().to_owned();
    let import = app
        .wait_json(&format!("/orgs/{}/cloud/{cloud}/imports/{import_id}", app.org_id), 60, |i| i["status"] != "IN_PROGRESS")
        .await;
    assert_eq!(import["status"], "COMPLETE", "{import}");
    let imported_id = import["importedBackupId"].as_str().unwrap().to_owned();
    assert_ne!(imported_id, backup, "an import is a new backup");
    let imported = app.backup(&imported_id).await;
    assert_eq!(imported["status"], "COMPLETE");
    assert_eq!(imported["origin"], "IMPORT");
    assert_eq!(imported["importedFrom"], backup.as_str());
    assert_eq!(imported["counts"], b["counts"]);
    assert_eq!(imported["storageId"], serde_json::Value::Null, "in managed storage, so restorable");
    lifeboat_server::verify::verify(app.data_dir.join("managed-storage/backups").join(&imported_id).to_str().unwrap())
        .await
        .unwrap();

    // An import of something the storage does not hold is refused at once.
    let (status, body) = app
        .post_json(&format!("/orgs/{}/imports", app.org_id), json!([{"product": "JIRA", "cloudId": cloud, "backupId": "0190b6c8-7d1e-7000-8000-000000000009"}]))
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("BACKUP_NOT_FOUND")), "{body}");
    (b, imported)
}

#[tokio::test]
async fn filesystem_storage_export_and_import() {
    let (app, _roots, root) = spawn_app_with_storage_root().await;
    let cloud = app.seed_site("Export", |o| {
        o.issues = 100;
        o.attachments = 10;
        o.attachment_size = 8 * 1024;
    })
    .await;
    let storages = format!("/orgs/{}/storages", app.org_id);

    let (status, body) = app.post_json(&storages, json!({"storageType": "filesystem", "path": "/etc/lifeboat"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_STORAGE_PATH")), "{body}");
    let (status, body) = app.post_json(&storages, json!({"storageType": "ftp"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_STORAGE_TYPE")));
    let path = root.join("team-backups");
    let (status, storage) = app
        .post_json(&storages, json!({"storageType": "filesystem", "storageName": "Team backups", "path": path, "cloudId": cloud}))
        .await;
    assert_eq!(status, 201, "{storage}");
    let storage_id = storage["storageId"].as_str().unwrap().to_owned();
    let (status, one) = app.get_json(&format!("{storages}/{storage_id}")).await;
    assert_eq!((status, &one), (200, &storage));
    let (_, list) = app.get_json(&format!("{storages}?cloudId={cloud}&product=JIRA")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Exporting needs a connected external storage.
    let lonely = app.create_site("No external").await;
    let p = app.create_policy(&lonely, json!({"product": "JIRA"})).await;
    let b = app.start_backup(&p).await;
    app.finished_backup(&b).await;
    let (status, body) = app
        .post_json(&format!("/orgs/{}/exports", app.org_id), json!([{"product": "JIRA", "cloudId": lonely, "backupId": b}]))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("NO_EXTERNAL_STORAGE")), "{body}");

    export_import_round_trip(&app, &cloud, &storage_id).await;
    // The exported copy is a complete archive in the directory, checked offline.
    lifeboat_server::verify::verify(path.to_str().unwrap()).await.unwrap();
}

/// Exports a backup to the app's external storage and waits for the export to end.
async fn export(app: &TestApp, cloud: &str, backup: &str) -> serde_json::Value {
    let (status, exports) = app
        .post_json(&format!("/orgs/{}/exports", app.org_id), json!([{"product": "JIRA", "cloudId": cloud, "backupId": backup}]))
        .await;
    assert_eq!(status, 202, "{exports}");
    let export_id = exports[0]["exportId"].as_str().unwrap();
    app.wait_json(&format!("/orgs/{}/cloud/{cloud}/exports/{export_id}", app.org_id), 60, |e| e["status"] != "IN_PROGRESS").await
}

/// An export copies the blobs its destination lacks and adds them to the destination's index, a
/// batch at a time; the blobs that index lists are marked used and not even read from the source.
#[tokio::test]
async fn exports_copy_only_the_blobs_the_destination_lacks() {
    let (app, _roots, root) = spawn_app_with_storage_root().await;
    let cloud = app.seed_site("Export", |o| {
        o.issues = 150;
        o.attachments = 100;
        o.attachment_size = 4 * 1024;
    })
    .await;
    let path = root.join("exports");
    let (status, storage) = app
        .post_json(
            &format!("/orgs/{}/storages", app.org_id),
            json!({"storageType": "filesystem", "storageName": "Exports", "path": path, "cloudId": cloud}),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let storage_id = storage["storageId"].as_str().unwrap().to_owned();
    let managed = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    // Exports go to the storage connected to the app's policy.
    app.create_policy(&cloud, json!({"product": "JIRA", "storageId": storage_id})).await;
    let backup = app.start_backup(&managed).await;
    assert_eq!(app.finished_backup(&backup).await["status"], "COMPLETE");
    let indexed = || {
        let (db, key) = (app.db.clone(), storage_id.clone());
        async move {
            sqlx::query_as::<_, (i64, Option<i64>)>("SELECT COUNT(*), MIN(last_used_at) FROM storage_blobs WHERE storage_key = ?")
                .bind(key)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(indexed().await.0, 0);

    // The export copies blobs in the order of the attachment records: with the last one missing
    // from managed storage it fails there, and every blob it copied before is in the index.
    let order: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM attachments WHERE cloud_id = ? AND product = 'JIRA' ORDER BY attachment_id")
            .bind(&cloud)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let mut distinct: Vec<&String> = Vec::new();
    for sha in &order {
        if !distinct.contains(&sha) {
            distinct.push(sha);
        }
    }
    let last = distinct.last().unwrap().as_str();
    let managed_blob = app.data_dir.join("managed-storage/blobs").join(&last[..2]).join(last);
    let aside = root.join("aside");
    std::fs::rename(&managed_blob, &aside).unwrap();
    let failed = export(&app, &cloud, &backup).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert!(failed["statusMessage"].as_str().unwrap().contains(last), "{failed}");
    let copied_before = files_under(&path.join("blobs"));
    assert_eq!(copied_before, distinct.len() - 1, "every blob before the missing one was copied");
    assert_eq!(indexed().await.0 as usize, copied_before, "and is in the destination's index, the failure notwithstanding");

    // Exported again with the blob back: the export completes, copying only that one.
    std::fs::rename(&aside, &managed_blob).unwrap();
    let first = export(&app, &cloud, &backup).await;
    assert_eq!(first["status"], "COMPLETE", "{first}");
    let blobs = files_under(&path.join("blobs"));
    assert!(blobs > 64, "more blobs than one batch of index entries: {blobs}");
    assert_eq!(blobs, distinct.len());
    let (count, used) = indexed().await;
    assert_eq!(count as usize, blobs, "every blob copied is in the destination's index");
    // The parts were written by the failed export: only that blob and the manifest are new.
    let new_bytes = std::fs::metadata(&managed_blob).unwrap().len()
        + std::fs::metadata(path.join("backups").join(&backup).join("manifest.json")).unwrap().len();
    assert_eq!(first["copiedBytes"].as_u64(), Some(new_bytes), "only the missing blob is copied: {first}");

    // Exported again: the index lists every blob, so none is read from the source (managed
    // storage's blobs are gone here) and every one is marked used now.
    std::fs::remove_dir_all(app.data_dir.join("managed-storage/blobs")).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = export(&app, &cloud, &backup).await;
    assert_eq!(again["status"], "COMPLETE", "{again}");
    assert_eq!(again["copiedBytes"], 0, "{again}");
    let (count_after, used_after) = indexed().await;
    assert_eq!(count_after, count);
    assert!(used_after > used, "the export marks every blob it found listed as used: {used_after:?} after {used:?}");
}

#[tokio::test]
async fn s3_storage_on_a_real_s3_compatible_server() {
    let moto = start_moto().await;
    create_bucket(&moto, "lifeboat-exports").await;
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.seed_site("S3", |o| {
        o.issues = 100;
        o.attachments = 8;
        o.attachment_size = 12 * 1024 * 1024 / 8; // includes multipart-sized blobs when sizes vary
    })
    .await;
    let storages = format!("/orgs/{}/storages", app.org_id);
    let (status, regions) = app.post_json(&format!("{storages}/regions"), json!({})).await;
    assert_eq!(status, 200);
    assert!(regions["regions"].as_array().unwrap().iter().any(|r| r == "eu-west-1"));

    let body = |endpoint: &str, region: &str| {
        json!({"storageType": "aws", "storageName": "lifeboat-exports", "storageRegion": region, "storagePrefix": "acme/jira",
               "endpoint": endpoint, "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": SECRET})
    };
    let (status, err) = app.post_json(&storages, body(&moto.endpoint, "mars-1")).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("INVALID_REGION")));
    // Nothing listens on port 9: the probe fails and nothing is recorded.
    let res = app.api(reqwest::Method::POST, &storages).json(&body("http://127.0.0.1:9", "eu-west-1")).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let text = res.text().await.unwrap();
    assert!(text.contains("STORAGE_UNREACHABLE") && !text.contains(SECRET), "{text}");

    let res = app.api(reqwest::Method::POST, &storages).json(&body(&moto.endpoint, "eu-west-1")).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    assert!(!text.contains(SECRET) && !text.contains("secretAccessKey"), "the secret is never returned: {text}");
    let storage: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(storage["hasCredentials"], true);
    let id = storage["storageId"].as_str().unwrap().to_owned();
    let listed = app.api(reqwest::Method::GET, &storages).send().await.unwrap().text().await.unwrap();
    assert!(!listed.contains(SECRET));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sealed_credentials FROM storages WHERE storage_id = ?")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!stored.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "stored encrypted");

    let (original, _) = export_import_round_trip(&app, &cloud, &id).await;
    assert!(original["backupSize"]["attachmentsSize"].as_u64().unwrap() > 8 * 1024 * 1024);

    // The exported archive in the bucket passes the offline verifier.
    std::env::set_var("AWS_ENDPOINT_URL", &moto.endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
    let backup_id = original["backupId"].as_str().unwrap();
    lifeboat_server::verify::verify(&format!("s3://lifeboat-exports/acme/jira/backups/{backup_id}")).await.unwrap();
}

/// An S3 storage's bucket prefix is its own as a directory is: not managed storage's nor another
/// storage's (of this organization or another) on the same endpoint and bucket, nor inside or
/// around one.
#[tokio::test]
async fn an_s3_bucket_prefix_belongs_to_one_storage() {
    use lifeboat_domain::service::identity;
    let moto = start_moto().await;
    create_bucket(&moto, "shared-bucket").await;
    let endpoint = moto.endpoint.clone();
    let app = spawn_app_with(move |c| {
        quick_jobs(c);
        c.backup.managed_storage = lifeboat_domain::service::backup::ManagedStorage::S3 {
            bucket: "shared-bucket".into(),
            region: "eu-west-1".into(),
            endpoint: Some(endpoint.clone()),
            prefix: "/managed/".into(),
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some(SECRET.into()),
        };
    })
    .await;
    let storages = format!("/orgs/{}/storages", app.org_id);
    let at = |prefix: &str| {
        json!({"storageType": "aws", "storageName": "shared-bucket", "storageRegion": "eu-west-1", "storagePrefix": prefix,
               "endpoint": moto.endpoint, "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": SECRET})
    };
    let (status, body) = app.post_json(&storages, at("acme/jira")).await;
    assert_eq!(status, 201, "{body}");
    for prefix in ["acme/jira", "/acme/jira/", "acme", "", "acme/jira/inside", "managed", "managed/backups"] {
        let (status, answer) = app.post_json(&storages, at(prefix)).await;
        assert_eq!((status, answer["code"].as_str()), (409, Some("STORAGE_PATH_IN_USE")), "{prefix:?}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("prefix of its own"), "{answer}");
    }
    let mut same_server = at("acme/jira");
    same_server["endpoint"] = json!(format!("{}/", moto.endpoint));
    let (status, answer) = app.post_json(&storages, same_server).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("STORAGE_PATH_IN_USE")), "the endpoint written otherwise: {answer}");

    // Another organization's admin, on the same server, is refused the same prefix.
    let other = identity::create_admin(&app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let token = identity::create_token(&app.db, &other.email, "t").await.unwrap().1;
    let res = app
        .api_as(reqwest::Method::POST, &format!("/orgs/{}/storages", other.org.org_id), &other.email, &token)
        .json(&at("acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    for prefix in ["acme/jira-2", "acme/confluence"] {
        let (status, answer) = app.post_json(&storages, at(prefix)).await;
        assert_eq!(status, 201, "a sibling prefix is another place: {prefix:?}: {answer}");
    }
}

/// A filesystem storage's directory is its own: not another storage's — of this organization or
/// another — nor inside or around one, nor managed storage's, whatever name (a symlink, a prefix)
/// it is given. Two storages in one directory would see each other's backups, and one's retention
/// would delete blobs the other's backups use.
#[tokio::test]
async fn a_filesystem_directory_belongs_to_one_storage() {
    use lifeboat_domain::service::identity;
    let roots = tempfile::tempdir().unwrap();
    let root = roots.path().to_path_buf();
    let data_root = root.clone();
    let app = spawn_app_with(move |c| {
        quick_jobs(c);
        c.backup.filesystem_roots = vec![data_root.clone()];
        c.backup.managed_storage = lifeboat_domain::service::backup::ManagedStorage::Filesystem { path: Some(data_root.join("managed")) };
    })
    .await;
    let storages = format!("/orgs/{}/storages", app.org_id);
    let create = |body: serde_json::Value| app.post_json(&storages, body);
    let (status, body) = create(json!({"storageType": "filesystem", "path": root.join("team")})).await;
    assert_eq!(status, 201, "{body}");
    std::os::unix::fs::symlink(root.join("team"), root.join("alias")).unwrap();

    let taken = [
        json!({"storageType": "filesystem", "path": root.join("team")}),
        json!({"storageType": "filesystem", "path": root.join("team/inside")}),
        json!({"storageType": "filesystem", "path": root}),
        json!({"storageType": "filesystem", "path": root, "storagePrefix": "team"}),
        json!({"storageType": "filesystem", "path": root.join("alias/inside")}),
        json!({"storageType": "filesystem", "path": root.join("managed/backups")}),
    ];
    for body in &taken {
        let (status, answer) = create(body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (409, Some("STORAGE_PATH_IN_USE")), "{body}: {answer}");
    }
    assert!(!root.join("team/inside").exists(), "a refused storage's directory was made");

    // Another organization's admin, on the same server, is refused the same directory.
    let other = identity::create_admin(&app.db, "eve@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let token = identity::create_token(&app.db, &other.email, "t").await.unwrap().1;
    let res = app
        .api_as(reqwest::Method::POST, &format!("/orgs/{}/storages", other.org.org_id), &other.email, &token)
        .json(&json!({"storageType": "filesystem", "path": root.join("team")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let res = app
        .api_as(reqwest::Method::POST, &format!("/orgs/{}/storages", other.org.org_id), &other.email, &token)
        .json(&json!({"storageType": "filesystem", "path": root.join("team-b")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "a sibling whose name starts the same is another directory");
}

/// Storages recorded before the directory rule may share a directory (here a copy of a storage's
/// row, as an older version could have written it, and its policy from before). The one created
/// later is refused at every use, so its backups fail with the reason and no new policy may use
/// it, and the first keeps working.
#[tokio::test]
async fn of_two_storages_sharing_a_directory_the_later_is_refused_at_use() {
    let (app, _roots, root) = spawn_app_with_storage_root().await;
    let first_site = app.seed_site("First", |o| o.issues = 5).await;
    let later_site = app.seed_site("Later", |o| o.issues = 5).await;
    let (status, first) = app
        .post_json(&format!("/orgs/{}/storages", app.org_id), json!({"storageType": "filesystem", "path": root.join("team"), "cloudId": first_site}))
        .await;
    assert_eq!(status, 201, "{first}");
    let later = "0193aaaa-0000-7000-8000-000000000001";
    // Recorded first in a directory of its own, so that its policy could be made; then moved into
    // the first storage's directory, as a row from before the rule could be.
    sqlx::query(
        "INSERT INTO storages (storage_id, org_id, cloud_id, storage_type, storage_name, storage_prefix, path, created_at, created_by)
         SELECT ?, org_id, ?, storage_type, 'later', storage_prefix, ?, created_at + 1, created_by FROM storages WHERE storage_id = ?",
    )
    .bind(later)
    .bind(&later_site)
    .bind(root.join("elsewhere").to_str().unwrap())
    .bind(first["storageId"].as_str().unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    let later_policy = app.create_policy(&later_site, json!({"product": "JIRA", "storageId": later})).await;
    sqlx::query("UPDATE storages SET path = (SELECT path FROM storages WHERE storage_id = ?) WHERE storage_id = ?")
        .bind(first["storageId"].as_str().unwrap())
        .bind(later)
        .execute(&app.db)
        .await
        .unwrap();

    let refused = app.finished_backup(&app.start_backup(&later_policy).await).await;
    assert_eq!(refused["status"], "FAILED", "{refused}");
    assert!(refused["statusMessage"].as_str().unwrap_or_default().contains("directory of its own"), "{refused}");
    let (status, answer) =
        app.post_json(&format!("{}/policies", app.site_path(&later_site)), json!({"product": "CONFLUENCE", "storageId": later})).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("STORAGE_PATH_IN_USE")), "a policy on a refused storage: {answer}");
    let first_policy = app.create_policy(&first_site, json!({"product": "JIRA", "storageId": first["storageId"]})).await;
    let kept = app.finished_backup(&app.start_backup(&first_policy).await).await;
    assert_eq!(kept["status"], "COMPLETE", "{kept}");
}

/// With the operator's list of S3 endpoints set, an organization admin cannot aim the server
/// elsewhere: the create is refused before the probe sends anything.
#[tokio::test]
async fn an_s3_endpoint_outside_the_operators_list_is_refused_before_any_request() {
    let app = spawn_app_with(|c| c.backup.s3_endpoints = vec!["https://minio.internal:9000".into()]).await;
    let storages = format!("/orgs/{}/storages", app.org_id);
    for endpoint in ["http://169.254.169.254/latest/meta-data", "https://minio.internal:9000.evil.test", "http://minio.internal:9000"] {
        let started = std::time::Instant::now();
        let (status, body) = app
            .post_json(&storages, json!({"storageType": "aws", "storageName": "bucket", "storageRegion": "us-east-1", "endpoint": endpoint}))
            .await;
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_ENDPOINT")), "{endpoint}: {body}");
        assert!(body["message"].as_str().unwrap().contains("backup.s3_endpoints"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(2), "the probe ran");
    }
    let (_, list) = app.get_json(&storages).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}
