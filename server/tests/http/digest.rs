use serde_json::{json, Value};

use crate::helpers::*;

/// Builds the same Jira and Confluence content in a site, in one of two orders.
async fn build_content(app: &TestApp, cloud: &str, reversed: bool, comment: &str) {
    let site = app.site_path(cloud);
    let mut projects = vec![("ALPHA", "Alpha"), ("BETA", "Beta")];
    if reversed {
        projects.reverse();
    }
    for (key, name) in &projects {
        let (s, _) = app.post_json(&format!("{site}/jira/projects"), json!({"key": key, "name": name})).await;
        assert_eq!(s, 201);
    }
    for (key, _) in &projects {
        for n in 1..=2 {
            let body = json!({"summary": format!("{key} issue {n}"), "comments": [{"body": comment}]});
            let (s, _) = app.post_json(&format!("{site}/jira/projects/{key}/issues"), body).await;
            assert_eq!(s, 201);
        }
    }
    let res = app
        .api(reqwest::Method::POST, &format!("{site}/jira/issues/ALPHA-1/attachments?filename=a.txt"))
        .header("content-type", "text/plain")
        .body("attachment bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let mut spaces = vec!["DOCS", "TEAM"];
    if reversed {
        spaces.reverse();
    }
    for key in &spaces {
        let (s, _) = app.post_json(&format!("{site}/confluence/spaces"), json!({"key": key, "name": key, "type": "global"})).await;
        assert_eq!(s, 201);
        let (_, root) = app.post_json(&format!("{site}/confluence/spaces/{key}/pages"), json!({"title": "Home", "body": "root"})).await;
        let root_id = root["pageId"].as_str().unwrap().to_owned();
        // Sibling order is content (`position`); creating them in another order must not matter.
        let mut children = vec![("Guide", 1), ("FAQ", 2)];
        if reversed {
            children.reverse();
        }
        for (title, position) in children {
            let body = json!({"title": title, "body": "text", "parentId": root_id, "position": position});
            let (s, _) = app.post_json(&format!("{site}/confluence/spaces/{key}/pages"), body).await;
            assert_eq!(s, 201);
        }
    }
}

async fn digest(app: &TestApp, cloud: &str, product: &str) -> Value {
    let (status, d) = app.get_json(&format!("{}/apps/{product}/digest", app.site_path(cloud))).await;
    assert_eq!(status, 200, "{d}");
    d
}

#[tokio::test]
async fn digests_ignore_ids_and_insertion_order_but_see_every_byte() {
    let app = spawn_app().await;
    let a = app.create_site("Order A").await;
    let b = app.create_site("Order B").await;
    let c = app.create_site("Changed").await;
    build_content(&app, &a, false, "same words").await;
    build_content(&app, &b, true, "same words").await;
    build_content(&app, &c, false, "same wordz").await;

    for product in ["JIRA", "CONFLUENCE"] {
        let (da, db, dc) = (digest(&app, &a, product).await, digest(&app, &b, product).await, digest(&app, &c, product).await);
        assert_eq!(da["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(da["sha256"], db["sha256"], "{product}: same content, other order, other ids");
        assert_eq!(da["counts"], db["counts"]);
        if product == "JIRA" {
            assert_ne!(da["sha256"], dc["sha256"], "one changed byte changes the digest");
            assert_eq!(da["counts"]["issues"], 4);
            assert_eq!(da["counts"]["attachments"], 1);
        } else {
            assert_eq!(da["sha256"], dc["sha256"], "Confluence content is the same in C");
        }
    }
    let (status, _) = app.get_json(&format!("{}/apps/BAMBOO/digest", app.site_path(&a))).await;
    assert_eq!(status, 404);
}
