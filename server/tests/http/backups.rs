//! Policies and backups over HTTP: every rule and code of SPEC §2, dedup, INCOMPLETE, expiry and
//! GC, cancel, snapshot consistency, schedules and retries.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

fn managed_backup_dir(app: &TestApp, backup_id: &str) -> std::path::PathBuf {
    app.data_dir.join("managed-storage/backups").join(backup_id)
}

fn managed_blob(app: &TestApp, sha: &str) -> std::path::PathBuf {
    app.data_dir.join("managed-storage/blobs").join(&sha[..2]).join(sha)
}

#[tokio::test]
async fn policy_rules() {
    let app = spawn_app().await;
    let cloud = app.create_site("Policies").await;
    let policies = format!("{}/policies", app.site_path(&cloud));

    let (status, p) = app
        .post_json(&policies, json!({"product": "JIRA", "includeAttachments": true, "schedule": {"interval": "DAILY", "timeOfDay": "02:30"}}))
        .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["storageId"], serde_json::Value::Null, "managed storage");
    assert_eq!(p["includePersonalSpaces"], serde_json::Value::Null, "Confluence only");
    assert!(p["nextRunAt"].as_str().unwrap().contains("02:30:00"), "{p}");
    let id = p["policyId"].as_str().unwrap().to_owned();

    let (status, body) = app.post_json(&policies, json!({"product": "JIRA"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("POLICY_EXISTS")), "one managed policy per app");
    let (status, body) = app.post_json(&policies, json!({"product": "CONFLUENCE", "includePersonalSpaces": true, "schedule": {"interval": "WEEKLY", "timeOfDay": "25:00", "dayOfWeek": "MON"}})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_SCHEDULE")));
    let (status, body) = app.post_json(&policies, json!({"product": "JIRA", "includePersonalSpaces": false, "storageId": null})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PERSONAL_SPACES_NOT_APPLICABLE")));
    let (status, body) = app.post_json(&policies, json!({"product": "CONFLUENCE", "storageId": "nope"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("STORAGE_NOT_FOUND")));
    let (status, c) = app
        .post_json(&policies, json!({"product": "CONFLUENCE", "includePersonalSpaces": true, "schedule": {"interval": "WEEKLY", "timeOfDay": "23:00", "dayOfWeek": "SUN"}}))
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["includePersonalSpaces"], true);

    // PUT changes only what is sent; `schedule: null` removes the schedule.
    let path = format!("/orgs/{}/policies/{id}", app.org_id);
    let (status, updated) = app.put_json(&path, json!({"includeAttachments": false})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["includeAttachments"], false);
    assert_eq!(updated["schedule"]["interval"], "DAILY", "untouched");
    let (status, updated) = app.put_json(&path, json!({"schedule": null})).await;
    assert_eq!(status, 200);
    assert_eq!(updated["schedule"], serde_json::Value::Null);
    assert_eq!(updated["nextRunAt"], serde_json::Value::Null);
    let (status, body) = app.put_json(&path, json!({"includePersonalSpaces": true})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PERSONAL_SPACES_NOT_APPLICABLE")));
    let (status, body) = app.put_json(&path, json!({"bogus": 1})).await;
    assert_eq!(status, 422, "{body}");

    let (status, list) = app.get_json(&format!("/orgs/{}/policies", app.org_id)).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (status, _) = app.get_json(&format!("/orgs/{}/policies/unknown", app.org_id)).await;
    assert_eq!(status, 404);
}

/// A blob already in a directory storage but not in its index (another backup wrote it and has not
/// indexed it yet, or stopped before it could) is found by a `stat`: the app's copy is not read,
/// hashed and written again, and the backup adds the blob to the index.
#[tokio::test]
async fn a_blob_in_the_storage_but_not_its_index_is_not_copied_again() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.seed_site("Unlisted", |o| {
        o.issues = 40;
        o.attachments = 6;
        o.attachment_size = 8 * 1024;
    })
    .await;
    let sha: String = sqlx::query_scalar("SELECT sha256 FROM attachments WHERE cloud_id = ? AND product = 'JIRA' LIMIT 1")
        .bind(&cloud)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let source = app.data_dir.join("blobs").join(&sha[..2]).join(&sha);
    let stored = app.data_dir.join("managed-storage/blobs").join(&sha[..2]).join(&sha);
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::copy(&source, &stored).unwrap();
    // Were the app's copy read, its damage would leave the attachment out of the backup.
    let mut bytes = std::fs::read(&source).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&source, bytes).unwrap();

    let policy = app.create_policy(&cloud, json!({"product": "JIRA", "includeAttachments": true})).await;
    let b = app.finished_backup(&app.start_backup(&policy).await).await;
    assert_eq!((b["status"].as_str(), &b["statusMessage"]), (Some("COMPLETE"), &serde_json::Value::Null), "{b}");
    let listed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM storage_blobs WHERE storage_key = '' AND sha256 = ?")
        .bind(&sha)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(listed, 1, "the blob found in the storage is now in its index");
}

#[tokio::test]
async fn backup_round_trip_with_dedup_and_verify() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.seed_site("Seeded", |o| {
        o.issues = 500;
        o.comments = 800;
        // Over one batch of blob index entries (64): the copy adds them to the index as it goes.
        o.attachments = 100;
        o.attachment_size = 8 * 1024;
    })
    .await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA", "includeAttachments": true})).await;

    let first = app.start_backup(&policy).await;
    // One backup or restore at a time per app: the lock is taken when the backup is created.
    let (status, body) = app.post_json(&format!("/orgs/{}/backups", app.org_id), json!({"policyId": policy})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("APP_BUSY")), "{body}");
    let b1 = app.finished_backup(&first).await;
    assert_eq!(b1["status"], "COMPLETE", "{b1}");
    assert_eq!(b1["counts"]["issues"], 500);
    assert_eq!(b1["counts"]["issue_comments"], 800);
    assert_eq!(b1["counts"]["attachments"], 100);
    assert_eq!(b1["progress"]["percent"], 100);
    let size1 = &b1["backupSize"];
    assert!(size1["dataSize"].as_u64().unwrap() > 100_000, "{size1}");
    assert!(size1["attachmentsSize"].as_u64().unwrap() > 0);
    assert!(size1["storedSize"].as_u64().unwrap() >= size1["attachmentsSize"].as_u64().unwrap() / 2, "{size1}");
    assert!(b1["expiryTime"].as_str().is_some() && b1["completedAt"].as_str().is_some());
    assert!(managed_backup_dir(&app, &first).join("manifest.json").exists());

    // The second backup of unchanged data stores no new attachment bytes: only its parts.
    let second = app.start_backup(&policy).await;
    let b2 = app.finished_backup(&second).await;
    assert_eq!(b2["status"], "COMPLETE");
    let parts_bytes = |id: &str| -> u64 {
        std::fs::read_dir(managed_backup_dir(&app, id).join("parts")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
    };
    let stored2 = b2["backupSize"]["storedSize"].as_u64().unwrap();
    assert_eq!(b2["backupSize"]["attachmentsSize"], size1["attachmentsSize"]);
    assert_eq!(stored2, parts_bytes(&second), "second backup stored {stored2} bytes: {b2}");

    // The first backup added every blob it copied to the storage's index, a batch at a time.
    let blobs_before = files_under(&app.data_dir.join("managed-storage/blobs"));
    let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM storage_blobs").fetch_one(&app.db).await.unwrap();
    assert_eq!(indexed as usize, blobs_before);
    assert!(blobs_before > 64, "more blobs than one batch: {blobs_before}");

    // After a change the backup is taken in full, and copies no blob the index lists: it does not
    // even read the app's copy (damaged here, after the first backup copied it whole).
    let source_blob = std::fs::read_dir(app.data_dir.join("blobs")).unwrap().find_map(|d| {
        let d = d.unwrap().path();
        d.is_dir().then(|| std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path())
    });
    let source_blob = source_blob.expect("a blob in the app's store");
    let mut bytes = std::fs::read(&source_blob).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&source_blob, bytes).unwrap();
    let (_, projects) = app.get_json(&format!("{}/jira/projects", app.site_path(&cloud))).await;
    let key = projects["items"][0]["key"].as_str().unwrap().to_owned();
    let (status, _) =
        app.post_json(&format!("{}/jira/projects/{key}/issues", app.site_path(&cloud)), json!({"summary": "a change"})).await;
    assert_eq!(status, 201);
    let last_used = |agg: &'static str| {
        let db = app.db.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("SELECT {agg}(last_used_at) FROM storage_blobs")).fetch_one(&db).await.unwrap() }
    };
    let used_before = last_used("MAX").await;
    let third = app.start_backup(&policy).await;
    let b3 = app.finished_backup(&third).await;
    assert_eq!((b3["status"].as_str(), b3["counts"]["issues"].as_u64()), (Some("COMPLETE"), Some(501)), "{b3}");
    assert_eq!(b3["statusMessage"], serde_json::Value::Null, "nothing missing: {b3}");
    assert_eq!(b3["backupSize"]["storedSize"].as_u64().unwrap(), parts_bytes(&third), "no blob copied again: {b3}");
    assert_eq!(files_under(&app.data_dir.join("managed-storage/blobs")), blobs_before);
    // ... and marked every one of them used (what keeps them from the collector).
    assert!(last_used("MIN").await > used_before, "every listed blob touched by the third backup");

    // The offline verifier accepts both, alone and as a whole storage.
    lifeboat_server::verify::verify(managed_backup_dir(&app, &first).to_str().unwrap()).await.unwrap();
    lifeboat_server::verify::verify(app.data_dir.join("managed-storage").to_str().unwrap()).await.unwrap();

    let (status, list) = app.get_json(&format!("/orgs/{}/policies/{policy}/backups", app.org_id)).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][0]["backupId"], third.as_str(), "newest first");
    let (_, p) = app.get_json(&format!("/orgs/{}/policies/{policy}", app.org_id)).await;
    assert!(p["lastBackupTime"].is_string());
    let (_, apps) = app.get_json(&format!("{}/apps", app.site_path(&cloud))).await;
    assert!(apps["items"].as_array().unwrap().iter().all(|a| a["busy"] == false));

    // Corrupting a part is reported by the verifier, naming it.
    let parts = managed_backup_dir(&app, &second).join("parts");
    let victim = std::fs::read_dir(&parts).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[5] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    let err = lifeboat_server::verify::verify(managed_backup_dir(&app, &second).to_str().unwrap()).await.unwrap_err();
    let name = victim.file_name().unwrap().to_str().unwrap();
    assert!(err.to_string().contains(name), "{err}");
}

/// The parts of a backup's archive, by name, with their inode numbers (a reused part is a hard link).
fn part_inodes(app: &TestApp, backup_id: &str) -> std::collections::BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(managed_backup_dir(app, backup_id).join("parts"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), e.metadata().unwrap().ino())
        })
        .collect()
}

#[tokio::test]
async fn a_backup_of_unchanged_data_reuses_the_previous_parts() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.seed_site("Unchanged", |o| {
        o.issues = 300;
        o.comments = 300;
        o.attachments = 6;
        o.attachment_size = 8 * 1024;
    })
    .await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA", "includeAttachments": true, "includeUsersAndGroups": true})).await;
    let first = app.start_backup(&policy).await;
    let b1 = app.finished_backup(&first).await;
    assert_eq!(b1["status"], "COMPLETE", "{b1}");
    assert_eq!(b1["statusMessage"], serde_json::Value::Null, "{b1}");

    // Nothing changed: the second backup takes the first's parts (hard links here) and figures.
    let second = app.start_backup(&policy).await;
    let b2 = app.finished_backup(&second).await;
    assert_eq!(b2["status"], "COMPLETE", "{b2}");
    assert_eq!(b2["statusMessage"], format!("Nothing had changed since backup {first}: its records were reused"));
    assert_eq!(b2["counts"], b1["counts"]);
    let records: u64 = b1["counts"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!((b1["progress"]["itemsDone"].as_u64(), b1["progress"]["itemsTotal"].as_u64()), (Some(records), Some(records)), "{b1}");
    assert_eq!(b2["progress"], b1["progress"], "{b2}");
    for size in ["dataSize", "usersSize", "attachmentsSize"] {
        assert_eq!(b2["backupSize"][size], b1["backupSize"][size], "{size}");
    }
    let (parts1, parts2) = (part_inodes(&app, &first), part_inodes(&app, &second));
    assert!(!parts1.is_empty());
    assert_eq!(parts1, parts2, "the same parts, shared");
    let stored2 = b2["backupSize"]["storedSize"].as_u64().unwrap();
    assert!(stored2 > 0 && stored2 < b1["backupSize"]["storedSize"].as_u64().unwrap());
    // It is a whole backup on its own: verified alone, and still whole once the first is deleted.
    lifeboat_server::verify::verify(managed_backup_dir(&app, &second).to_str().unwrap()).await.unwrap();
    std::fs::remove_dir_all(managed_backup_dir(&app, &first)).unwrap();
    lifeboat_server::verify::verify(managed_backup_dir(&app, &second).to_str().unwrap()).await.unwrap();

    // A change (one new issue) is a full backup again, with the change in it.
    let (_, projects) = app.get_json(&format!("{}/jira/projects", app.site_path(&cloud))).await;
    let key = projects["items"][0]["key"].as_str().unwrap().to_owned();
    let issues = format!("{}/jira/projects/{key}/issues", app.site_path(&cloud));
    let (status, issue) = app.post_json(&issues, json!({"summary": "After the backup"})).await;
    assert_eq!(status, 201, "{issue}");
    let third = app.start_backup(&policy).await;
    let b3 = app.finished_backup(&third).await;
    assert_eq!(b3["status"], "COMPLETE", "{b3}");
    assert_eq!(b3["statusMessage"], serde_json::Value::Null);
    assert_eq!(b3["counts"]["issues"], b1["counts"]["issues"].as_u64().unwrap() + 1);
    let parts3 = part_inodes(&app, &third);
    assert!(parts3.values().all(|ino| !parts2.values().any(|x| x == ino)), "freshly written parts");

    // Unchanged again, but the newest candidate's archive is damaged: a full backup, not a failure.
    std::fs::remove_file(managed_backup_dir(&app, &third).join("manifest.json")).unwrap();
    let fourth = app.start_backup(&policy).await;
    let b4 = app.finished_backup(&fourth).await;
    assert_eq!(b4["status"], "COMPLETE", "{b4}");
    assert_eq!(b4["statusMessage"], serde_json::Value::Null);
    assert_eq!(b4["counts"], b3["counts"]);
    lifeboat_server::verify::verify(managed_backup_dir(&app, &fourth).to_str().unwrap()).await.unwrap();

    // Other options are another backup: with attachments off, nothing is reused.
    let (status, _) = app.put_json(&format!("/orgs/{}/policies/{policy}", app.org_id), json!({"includeAttachments": false})).await;
    assert_eq!(status, 200);
    let fifth = app.start_backup(&policy).await;
    let b5 = app.finished_backup(&fifth).await;
    assert_eq!(b5["statusMessage"], serde_json::Value::Null, "{b5}");
    assert_eq!(b5["backupSize"]["attachmentsSize"], 0);
}

#[tokio::test]
async fn confluence_backup_honours_personal_spaces_and_directory() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.seed_site("Wiki", |o| {
        o.pages = 60;
        o.spaces = 3;
    })
    .await;
    let site = app.site_path(&cloud);
    let (status, _) = app
        .post_json(&format!("{site}/confluence/spaces"), json!({"key": "~alice", "name": "Alice", "type": "personal", "owner": "alice@acme.test"}))
        .await;
    assert_eq!(status, 201);
    let (_, spaces) = app.get_json(&format!("{site}/confluence/spaces?limit=100")).await;
    let total_spaces = spaces["total"].as_u64().unwrap();
    let personal = spaces["items"].as_array().unwrap().iter().filter(|s| s["type"] == "personal").count() as u64;
    assert!(personal >= 1);

    let without = app.create_policy(&cloud, json!({"product": "CONFLUENCE", "includePersonalSpaces": false, "includeUsersAndGroups": false})).await;
    let b = app.finished_backup(&app.start_backup(&without).await).await;
    assert_eq!(b["status"], "COMPLETE", "{b}");
    assert_eq!(b["counts"]["spaces"].as_u64().unwrap(), total_spaces - personal);
    assert!(b["counts"].get("users").is_none(), "no directory: {b}");

    let (status, _) = app.put_json(&format!("/orgs/{}/policies/{without}", app.org_id), json!({"includePersonalSpaces": true, "includeUsersAndGroups": true})).await;
    assert_eq!(status, 200);
    let b = app.finished_backup(&app.start_backup(&without).await).await;
    assert_eq!(b["counts"]["spaces"].as_u64().unwrap(), total_spaces);
    assert!(b["counts"]["groups"].as_u64().unwrap() >= 1, "{b}");
    assert!(b["counts"]["access"].as_u64().unwrap() >= 1);
    assert!(b["backupSize"]["usersSize"].as_u64().unwrap() > 0);
    assert_eq!(b["includePersonalSpaces"], true);
}

#[tokio::test]
async fn a_missing_attachment_makes_the_backup_incomplete() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.create_site("Attachments").await;
    let site = app.site_path(&cloud);
    app.post_json(&format!("{site}/jira/projects"), json!({"key": "OPS", "name": "Ops"})).await;
    app.post_json(&format!("{site}/jira/projects/OPS/issues"), json!({"summary": "One"})).await;
    let mut shas = vec![];
    for body in [&b"first file"[..], &b"second file"[..], &b"third file"[..]] {
        let res = app
            .api(reqwest::Method::POST, &format!("{site}/jira/issues/OPS-1/attachments?filename=f.txt"))
            .header("content-type", "text/plain")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        shas.push(v["sha256"].as_str().unwrap().to_owned());
    }
    std::fs::remove_file(app.data_dir.join("blobs").join(&shas[0][..2]).join(&shas[0])).unwrap();
    // Bit rot: the third blob's bytes no longer hash to its name (same length).
    std::fs::write(app.data_dir.join("blobs").join(&shas[2][..2]).join(&shas[2]), b"THIRD FILE").unwrap();

    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let b = app.finished_backup(&app.start_backup(&policy).await).await;
    assert_eq!(b["status"], "INCOMPLETE", "{b}");
    assert_eq!(b["missingAttachments"], 2);
    assert!(b["statusMessage"].as_str().unwrap().contains("could not be read"), "{b}");
    assert_eq!(b["counts"]["attachments"], 3, "the records are kept without their bytes");
    assert!(managed_blob(&app, &shas[1]).exists());
    assert!(!managed_blob(&app, &shas[2]).exists(), "damaged bytes are not stored under the blob's name");
    lifeboat_server::verify::verify(managed_backup_dir(&app, b["backupId"].as_str().unwrap()).to_str().unwrap()).await.unwrap();
}

#[tokio::test]
async fn expiry_deletes_archives_and_collects_unreferenced_blobs() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.backup.managed_retention = Duration::from_secs(4);
        c.backup.gc_grace = Duration::ZERO;
    })
    .await;
    let cloud = app.seed_site("Expiring", |o| {
        o.issues = 20;
        o.attachments = 5;
        o.attachment_size = 4096;
    })
    .await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let a = app.start_backup(&policy).await;
    app.finished_backup(&a).await;
    let b = app.start_backup(&policy).await;
    let bb = app.finished_backup(&b).await;
    assert_eq!(bb["status"], "COMPLETE");
    let blobs_dir = app.data_dir.join("managed-storage/blobs");
    let count_blobs = || files_under(&blobs_dir);
    let before = count_blobs();
    assert!(before >= 1);

    // A expires first; its blobs are still referenced by B and stay.
    let ea = app.wait_backup(&a, 20, |v| v["status"] == "EXPIRED").await;
    assert!(ea["statusMessage"].as_str().unwrap().starts_with("Expired"));
    assert!(!managed_backup_dir(&app, &a).join("manifest.json").exists(), "A's archive is deleted");
    if app.backup(&b).await["status"] == "COMPLETE" {
        assert_eq!(count_blobs(), before, "blobs shared with a live backup are kept");
    }
    // Then B; no live backup refers to the blobs any more.
    app.wait_backup(&b, 20, |v| v["status"] == "EXPIRED").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count_blobs() > 0 {
        assert!(std::time::Instant::now() < deadline, "unreferenced blobs were not collected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired = app.backup(&b).await;
    assert_eq!(expired["expiryTime"], bb["expiryTime"], "metadata stays");
}

#[tokio::test]
async fn a_queued_backup_is_cancelled_at_once() {
    // A server that runs no jobs keeps the job queued, so it is cancelled before it starts.
    let app = spawn_app_with(|c| c.backup.jobs.concurrency = 0).await;
    let cloud = app.create_site("Cancel").await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let id = app.start_backup(&policy).await;
    let (status, b) = app.post_json(&format!("/orgs/{}/backups/{id}/cancel", app.org_id), json!({})).await;
    assert_eq!(status, 202, "{b}");
    assert_eq!(b["status"], "FAILED");
    assert_eq!(b["statusCode"], "CANCELLED");
    assert_eq!(b["statusMessage"], "Cancelled by admin@acme.test");
    let (status, body) = app.post_json(&format!("/orgs/{}/backups/{id}/cancel", app.org_id), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("BACKUP_NOT_RUNNING")));
    // The app is free again.
    app.start_backup(&policy).await;
}

#[tokio::test]
async fn a_queued_job_starts_at_once_not_at_the_next_poll() {
    // The runner would not look for queued jobs within the test's time: the queueing wakes it.
    let app = spawn_app_with(|c| c.backup.jobs.poll = Duration::from_secs(3600)).await;
    let cloud = app.create_site("Woken").await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    for _ in 0..3 {
        let id = app.start_backup(&policy).await;
        let b = app.wait_backup(&id, 20, |b| b["status"] != "IN_PROGRESS").await;
        assert_eq!(b["status"], "COMPLETE", "{b}");
    }
}

#[tokio::test]
async fn a_job_queued_while_every_slot_is_busy_starts_when_one_frees() {
    // One slot and a runner that would not poll within the test: the second backup, queued while
    // the first runs, starts only because the first's end wakes the runner.
    let app = spawn_app_with(|c| {
        c.backup.jobs.poll = Duration::from_secs(3600);
        c.backup.jobs.concurrency = 1;
    })
    .await;
    let cloud = app.seed_site("One slot", |o| {
        o.issues = 20_000;
        o.comments = 0;
        o.attachments = 0;
    })
    .await;
    let jira = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let confluence = app.create_policy(&cloud, json!({"product": "CONFLUENCE"})).await;
    let first = app.start_backup(&jira).await;
    let second = app.start_backup(&confluence).await;
    assert_eq!(app.backup(&first).await["status"], "IN_PROGRESS", "the first backup still holds the only slot");
    for id in [&first, &second] {
        let b = app.wait_backup(id, 60, |b| b["status"] != "IN_PROGRESS").await;
        assert_eq!(b["status"], "COMPLETE", "{b}");
    }
}

#[tokio::test]
async fn snapshot_consistency_and_cancelling_a_running_backup() {
    let app = spawn_app_with(quick_jobs).await;
    let issues = 150_000;
    let cloud = app.seed_site("Busy", |o| {
        o.jira_projects = 2;
        o.issues = issues;
        o.comments = 0;
        o.attachments = 0;
        o.pages = 0;
    })
    .await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let (_, projects) = app.get_json(&format!("{}/jira/projects", app.site_path(&cloud))).await;
    let key = projects["items"][0]["key"].as_str().unwrap().to_owned();

    // Writers keep working during a backup, and what they write after the snapshot is not in it.
    let id = app.start_backup(&policy).await;
    app.wait_backup(&id, 30, |b| b["progress"]["itemsDone"].as_u64().unwrap_or(0) > 0 || b["status"] != "IN_PROGRESS").await;
    let (status, _) = app
        .post_json(&format!("{}/jira/projects/{key}/issues", app.site_path(&cloud)), json!({"summary": "written during the backup"}))
        .await;
    assert_eq!(status, 201);
    let done = app.finished_backup(&id).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["counts"]["issues"].as_u64().unwrap(), issues, "one snapshot: the new issue is not in it");

    // A running backup can be cancelled; it ends FAILED with who cancelled it.
    let id = app.start_backup(&policy).await;
    app.wait_backup(&id, 30, |b| b["progress"]["itemsDone"].as_u64().unwrap_or(0) > 0 || b["status"] != "IN_PROGRESS").await;
    let (status, _) = app.post_json(&format!("/orgs/{}/backups/{id}/cancel", app.org_id), json!({})).await;
    if status == 202 {
        let b = app.finished_backup(&id).await;
        assert_eq!(b["status"], "FAILED", "{b}");
        assert_eq!(b["statusMessage"], "Cancelled by admin@acme.test");
        // The parts are deleted just after FAILED is recorded (never before: a backup that completed
        // as the cancel came must keep them), so give that a moment.
        let dir = managed_backup_dir(&app, &id);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while dir.exists() && files_under(&dir) > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!dir.exists() || files_under(&dir) == 0, "parts deleted");
    } else {
        panic!("the backup finished before it could be cancelled; make the data set larger");
    }
}

#[tokio::test]
async fn limits_answer_with_their_codes() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.backup.min_interval = Duration::from_secs(3600);
        c.backup.limits.confluence_data = 10;
    })
    .await;
    let cloud = app.seed_site("Limits", |o| o.issues = 10).await;
    let jira = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let b = app.finished_backup(&app.start_backup(&jira).await).await;
    assert_eq!(b["status"], "COMPLETE");
    let res = app.api(reqwest::Method::POST, &format!("/orgs/{}/backups", app.org_id)).json(&json!({"policyId": jira})).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "BACKUP_TOO_SOON");

    let wiki = app.create_policy(&cloud, json!({"product": "CONFLUENCE"})).await;
    let b = app.finished_backup(&app.start_backup(&wiki).await).await;
    assert_eq!(b["status"], "FAILED", "{b}");
    assert_eq!(b["statusCode"], "SIZE_LIMIT_EXCEEDED");

    sqlx::query("UPDATE apps SET state = 'DEACTIVATED' WHERE cloud_id = ? AND product = 'CONFLUENCE'").bind(&cloud).execute(&app.db).await.unwrap();
    let (status, body) = app.post_json(&format!("/orgs/{}/backups", app.org_id), json!({"policyId": wiki})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("APP_DEACTIVATED")), "{body}");

    let (status, body) = app.post_json(&format!("/orgs/{}/backups", app.org_id), json!({"policyId": jira, "cloudId": "other"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("CLOUD_ID_MISMATCH")));
    let (status, _) = app.post_json(&format!("/orgs/{}/backups", app.org_id), json!({"policyId": "nope"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn scheduled_runs_and_retries_of_failed_ones() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.backup.retry_delay = Duration::from_millis(300);
        c.backup.retry_attempts = 3;
        c.backup.limits.jira_data = 10;
    })
    .await;
    let cloud = app.seed_site("Scheduled", |o| o.issues = 10).await;
    // A ONCE policy on Confluence runs and becomes INACTIVE.
    let once = app
        .create_policy(&cloud, json!({"product": "CONFLUENCE", "schedule": {"interval": "ONCE", "timeOfDay": "03:00"}}))
        .await;
    // Its time comes: the scheduler compares with the stored next run.
    sqlx::query("UPDATE policies SET next_run_at = 0 WHERE policy_id = ?").bind(&once).execute(&app.db).await.unwrap();
    let policy_path = format!("/orgs/{}/policies/{once}", app.org_id);
    let p = app.wait_json(&policy_path, 20, |p| p["status"] == "INACTIVE" && p["lastBackupTime"].is_string()).await;
    assert_eq!(p["nextRunAt"], serde_json::Value::Null);
    let (_, list) = app.get_json(&format!("/orgs/{}/policies/{once}/backups", app.org_id)).await;
    assert_eq!(list["items"][0]["origin"], "SCHEDULED");
    assert_eq!(list["items"][0]["status"], "COMPLETE");

    // A DAILY Jira policy whose runs fail (over the size limit) is retried, 3 attempts in all.
    let daily = app
        .create_policy(&cloud, json!({"product": "JIRA", "schedule": {"interval": "DAILY", "timeOfDay": "04:00"}}))
        .await;
    sqlx::query("UPDATE policies SET next_run_at = 0 WHERE policy_id = ?").bind(&daily).execute(&app.db).await.unwrap();
    let backups = format!("/orgs/{}/policies/{daily}/backups", app.org_id);
    let list = app
        .wait_json(&backups, 30, |l| {
            l["total"] == 3 && l["items"].as_array().unwrap().iter().all(|b| b["status"] == "FAILED")
        })
        .await;
    assert!(list["items"].as_array().unwrap().iter().all(|b| b["statusCode"] == "SIZE_LIMIT_EXCEEDED"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, list) = app.get_json(&backups).await;
    assert_eq!(list["total"], 3, "no fourth attempt");
    let (_, p) = app.get_json(&format!("/orgs/{}/policies/{daily}", app.org_id)).await;
    assert_eq!(p["status"], "ACTIVE");
    assert!(p["nextRunAt"].as_str().unwrap().contains("04:00:00"), "next regular run: {p}");
}

#[tokio::test]
async fn rights_on_policies_and_backups() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.create_site("Rights").await;
    let policy = app.create_policy(&cloud, json!({"product": "JIRA"})).await;
    let backup = app.start_backup(&policy).await;
    app.finished_backup(&backup).await;

    // An org admin without app-admin rights.
    let limited = lifeboat_domain::service::identity::create_admin(&app.db, "limited@acme.test", "Acme", PASSWORD, false)
        .await
        .unwrap();
    let token = lifeboat_domain::service::identity::create_token(&app.db, &limited.email, "t").await.unwrap().1;
    let as_limited = |m: reqwest::Method, p: &str| {
        app.client.request(m, app.url(&format!("/api/v1{p}"))).basic_auth("limited@acme.test", Some(token.clone()))
    };
    let res = as_limited(reqwest::Method::POST, &format!("{}/policies", app.site_path(&cloud)))
        .json(&json!({"product": "CONFLUENCE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = as_limited(reqwest::Method::GET, &format!("/orgs/{}/backups/{backup}", app.org_id)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = as_limited(reqwest::Method::GET, &format!("/orgs/{}/policies", app.org_id)).send().await.unwrap();
    let list: serde_json::Value = res.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "only policies of apps one administers");

    // An admin of another organization sees nothing.
    let other = lifeboat_domain::service::identity::create_admin(&app.db, "other@else.test", "Else", PASSWORD, true).await.unwrap();
    let token = lifeboat_domain::service::identity::create_token(&app.db, &other.email, "t").await.unwrap().1;
    for path in [format!("/orgs/{}/backups/{backup}", app.org_id), format!("/orgs/{}/policies/{policy}", app.org_id)] {
        let res = app.client.get(app.url(&format!("/api/v1{path}"))).basic_auth("other@else.test", Some(&token)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = app
        .client
        .get(app.url(&format!("/api/v1/orgs/{}/backups/{backup}", other.org.org_id)))
        .basic_auth("other@else.test", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "a backup id of another org is unknown in one's own");
}
