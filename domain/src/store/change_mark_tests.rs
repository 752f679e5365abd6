//! Migration 0007's triggers: a write to anything a backup records marks exactly the apps whose
//! backups it changes — no fewer (a reused backup would miss the change), and not the apps of other
//! sites or organizations.

use std::collections::BTreeSet;

use crate::blobs::BlobStore;
use crate::model::Product;
use crate::service::identity::open_database;
use crate::service::seed::{seed, SeedOptions};
use crate::store::{self, backup as q, Db};

fn options(org: &str, site: &str) -> SeedOptions {
    SeedOptions {
        org: org.into(),
        site: site.into(),
        jira_projects: 2,
        issues: 20,
        comments: 20,
        spaces: 2,
        pages: 12,
        attachments: 4,
        attachment_size: 512,
        users: 6,
        groups: 2,
        seed: 5,
    }
}

/// Runs `sql` and returns the apps it marked as changed.
async fn marked_by(
    db: &Db,
    apps: &[(String, Product)],
    sql: &str,
) -> BTreeSet<(String, &'static str)> {
    let mut generations = Vec::new();
    for (cloud, product) in apps {
        generations.push(
            q::next_change_generation(db, cloud, *product)
                .await
                .unwrap(),
        );
    }
    let done = sqlx::query(sql).execute(db).await.unwrap();
    assert!(
        done.rows_affected() > 0,
        "the statement changed nothing: {sql}"
    );
    let mut marked = BTreeSet::new();
    for ((cloud, product), generation) in apps.iter().zip(generations) {
        if q::changed_in(db, cloud, *product).await.unwrap() >= generation {
            marked.insert((cloud.clone(), product.as_str()));
        }
    }
    marked
}

#[tokio::test]
async fn every_recorded_table_marks_its_app_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_database(&store::default_url(dir.path()))
        .await
        .unwrap();
    let blobs = BlobStore::new(dir.path().join("blobs"));
    let quiet = |_| {};
    let a = seed(&db, &blobs, &options("Marks", "a"), &quiet)
        .await
        .unwrap()
        .cloud_id;
    let b = seed(&db, &blobs, &options("Marks", "b"), &quiet)
        .await
        .unwrap()
        .cloud_id;
    let other = seed(&db, &blobs, &options("Elsewhere", "c"), &quiet)
        .await
        .unwrap()
        .cloud_id;
    let apps: Vec<(String, Product)> = [&a, &b, &other]
        .iter()
        .flat_map(|c| Product::ALL.map(|p| ((*c).clone(), p)))
        .collect();
    let only = |list: &[(&String, Product)]| {
        list.iter()
            .map(|(c, p)| ((*c).clone(), p.as_str()))
            .collect::<BTreeSet<_>>()
    };
    let a_jira = only(&[(&a, Product::Jira)]);
    let a_conf = only(&[(&a, Product::Confluence)]);
    let a_and_b_jira = only(&[(&a, Product::Jira), (&b, Product::Jira)]);
    let whole_org = only(&[
        (&a, Product::Jira),
        (&a, Product::Confluence),
        (&b, Product::Jira),
        (&b, Product::Confluence),
    ]);

    let issue_in_a = format!(
        "(SELECT i.issue_id FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id WHERE p.cloud_id = '{a}' LIMIT 1)"
    );
    let page_in_a = format!(
        "(SELECT g.page_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE s.cloud_id = '{a}' LIMIT 1)"
    );
    let org_of_a = format!("(SELECT org_id FROM sites WHERE cloud_id = '{a}')");
    let cases: Vec<(String, &BTreeSet<(String, &'static str)>)> = vec![
        (format!("UPDATE jira_projects SET name = 'Renamed' WHERE cloud_id = '{a}'"), &a_jira),
        (format!("UPDATE jira_issues SET summary = 'Edited' WHERE issue_id = {issue_in_a}"), &a_jira),
        (
            format!("INSERT INTO jira_comments (comment_id, issue_id, body, created_at) SELECT 'new-comment', {issue_in_a}, 'hi', '2026-01-01T00:00:00Z'"),
            &a_jira,
        ),
        ("DELETE FROM jira_comments WHERE comment_id = 'new-comment'".into(), &a_jira),
        (format!("UPDATE attachments SET filename = 'x.txt' WHERE cloud_id = '{a}' AND product = 'JIRA'"), &a_jira),
        (format!("UPDATE app_access SET role = role WHERE cloud_id = '{a}' AND product = 'JIRA'"), &a_jira),
        (format!("UPDATE confluence_spaces SET name = 'Renamed' WHERE cloud_id = '{a}'"), &a_conf),
        (format!("UPDATE confluence_pages SET title = 'Edited' WHERE page_id = {page_in_a}"), &a_conf),
        (
            format!("DELETE FROM confluence_comments WHERE comment_id = (SELECT comment_id FROM confluence_comments WHERE page_id IN (SELECT g.page_id FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id WHERE s.cloud_id = '{a}') LIMIT 1)"),
            &a_conf,
        ),
        (format!("DELETE FROM attachments WHERE cloud_id = '{a}' AND product = 'CONFLUENCE'"), &a_conf),
        // A row moved to another site's project changes both apps.
        (
            format!("UPDATE jira_issues SET project_id = (SELECT project_id FROM jira_projects WHERE cloud_id = '{b}' LIMIT 1), number = 100000 WHERE issue_id = {issue_in_a}"),
            &a_and_b_jira,
        ),
        (
            format!("INSERT INTO app_access (access_id, group_id, cloud_id, product, role, state, created_at) SELECT 'new-access', group_id, '{a}', 'CONFLUENCE', 'ADMIN', 'ACTIVE', '2026-01-01' FROM groups WHERE org_id = {org_of_a} AND name = 'jira-users'"),
            &a_conf,
        ),
        (format!("INSERT INTO users (account_id, org_id, email, display_name, created_at) VALUES ('new-user', {org_of_a}, 'new@x.test', 'New', '2026-01-01')"), &whole_org),
        (format!("UPDATE users SET display_name = 'Someone' WHERE org_id = {org_of_a}"), &whole_org),
        (format!("INSERT INTO groups (group_id, org_id, name, created_at) VALUES ('new-group', {org_of_a}, 'new', '2026-01-01')"), &whole_org),
        (format!("DELETE FROM group_members WHERE group_id IN (SELECT group_id FROM groups WHERE org_id = {org_of_a})"), &whole_org),
        // A cascade: the project's own trigger marks the app even when its issues' find no parent.
        (format!("DELETE FROM jira_projects WHERE cloud_id = '{a}'"), &a_jira),
    ];
    for (sql, expected) in cases {
        assert_eq!(&marked_by(&db, &apps, &sql).await, expected, "{sql}");
    }
    // An app whose mark row is gone, or that is created again, counts as changed: no earlier backup
    // (here one of each app that took generation 5) stands for its data.
    for product in ["JIRA", "CONFLUENCE"] {
        sqlx::query(
            "INSERT INTO backups (backup_id, org_id, cloud_id, product, status, origin, include_attachments,
                 include_users_and_groups, include_personal_spaces, created_at, created_by, expiry_time, change_generation)
             SELECT ?, org_id, cloud_id, ?, 'COMPLETE', 'MANUAL', 1, 1, 0, 0, 'x', 9999999999999, 5 FROM sites WHERE cloud_id = ?",
        )
        .bind(format!("old-{product}"))
        .bind(product)
        .bind(&b)
        .execute(&db)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM app_changes WHERE cloud_id = ? AND product = 'JIRA'").bind(&b).execute(&db).await.unwrap();
    q::next_change_generation(&db, &b, Product::Jira).await.unwrap();
    assert!(q::changed_in(&db, &b, Product::Jira).await.unwrap() > 5, "a lost mark counts as a change");
    sqlx::query("DELETE FROM apps WHERE cloud_id = ? AND product = 'CONFLUENCE'").bind(&b).execute(&db).await.unwrap();
    sqlx::query("INSERT INTO apps (cloud_id, product, plan, shard, created_at) VALUES (?, 'CONFLUENCE', 'FREE', 's', '2026-01-01')")
        .bind(&b)
        .execute(&db)
        .await
        .unwrap();
    q::next_change_generation(&db, &b, Product::Confluence).await.unwrap();
    assert!(q::changed_in(&db, &b, Product::Confluence).await.unwrap() > 5, "an app created again starts changed");

    // Reading marks nothing: a new generation with no write leaves every app unchanged.
    for (cloud, product) in &apps {
        let generation = q::next_change_generation(&db, cloud, *product)
            .await
            .unwrap();
        assert!(q::changed_in(&db, cloud, *product).await.unwrap() < generation);
    }
}

/// A restore's suspension of the bulk tables' insert triggers (`suspend_insert_marks`) marks the
/// app itself, and only it: an issue inserted while they are suspended leaves its app marked, and
/// resuming puts every trigger back as it was, marking again.
#[tokio::test]
async fn suspended_insert_marks_mark_the_app_once_and_come_back() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let db = open_database(&store::default_url(dir.path())).await.unwrap();
    let blobs = BlobStore::new(dir.path().join("blobs"));
    let a = seed(&db, &blobs, &options("Suspended", "a"), &|_| {}).await.unwrap().cloud_id;
    let triggers = || async {
        sqlx::query_as::<_, (String, String)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            .fetch_all(&db)
            .await
            .unwrap()
    };
    let before = triggers().await;
    let jira = q::next_change_generation(&db, &a, Product::Jira).await.unwrap();
    let confluence = q::next_change_generation(&db, &a, Product::Confluence).await.unwrap();
    let insert_issue = |id: &'static str| {
        sqlx::query(
            "INSERT INTO jira_issues (issue_id, project_id, number, summary, created_at, updated_at)
             SELECT ?, project_id, 100000 + length(?), 'x', '2026-01-01', '2026-01-01' FROM jira_projects WHERE cloud_id = ? LIMIT 1",
        )
        .bind(id)
        .bind(id)
        .bind(a.clone())
    };

    let mut conn = db.acquire().await.unwrap();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let marks = q::suspend_insert_marks(&mut tx, &a, Product::Jira).await.unwrap();
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'jira_issues_changed_insert'").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(gone, 0, "suspended inside the transaction");
    assert_eq!(insert_issue("during").execute(&mut *tx).await.unwrap().rows_affected(), 1);
    q::resume_insert_marks(&mut tx, marks).await.unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    assert!(q::changed_in(&db, &a, Product::Jira).await.unwrap() >= jira, "the app is marked");
    assert!(q::changed_in(&db, &a, Product::Confluence).await.unwrap() < confluence, "and no other");
    assert_eq!(triggers().await, before);

    // The triggers mark again: a row inserted in a later generation marks the app.
    let later = q::next_change_generation(&db, &a, Product::Jira).await.unwrap();
    insert_issue("after").execute(&db).await.unwrap();
    assert!(q::changed_in(&db, &a, Product::Jira).await.unwrap() >= later);
}
