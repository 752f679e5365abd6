use serde_json::json;
use sha2::Digest as _;

use crate::helpers::*;

#[tokio::test]
async fn jira_projects_issues_and_comments() {
    let app = spawn_app().await;
    let cloud = app.create_site("Jira site").await;
    let jira = format!("{}/jira/projects", app.site_path(&cloud));
    let (status, project) = app.post_json(&jira, json!({"key": "OPS", "name": "Operations", "description": "Runbooks"})).await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["key"], "OPS");

    let (status, body) = app.post_json(&jira, json!({"key": "OPS", "name": "Again"})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = app.post_json(&jira, json!({"key": "bad key!", "name": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "INVALID_PROJECT_KEY");
    let (status, _) = app.post_json(&jira, json!({"key": 42})).await;
    assert_eq!(status, 422);

    let issues = format!("{jira}/OPS/issues");
    let (status, first) = app
        .post_json(&issues, json!({"summary": "Disk full", "description": "on db-1", "comments": [{"body": "looking"}, {"body": "fixed"}]}))
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["issueKey"], "OPS-1");
    let (_, second) = app.post_json(&issues, json!({"summary": "Rotate keys"})).await;
    assert_eq!(second["issueKey"], "OPS-2");
    let (status, _) = app.post_json(&issues, json!({"summary": ""})).await;
    assert_eq!(status, 400);
    let (status, _) = app.post_json(&format!("{jira}/NOPE/issues"), json!({"summary": "x"})).await;
    assert_eq!(status, 404);

    let (status, list) = app.get_json(&issues).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2);
    let one = &list["items"][0];
    assert_eq!(one["issueKey"], "OPS-1");
    assert_eq!(one["comments"].as_array().unwrap().len(), 2);
    assert_eq!(one["comments"][1]["body"], "fixed");

    let (_, apps) = app.get_json(&format!("{}/apps", app.site_path(&cloud))).await;
    let jira_app = apps["items"].as_array().unwrap().iter().find(|a| a["product"] == "JIRA").unwrap().clone();
    assert_eq!(jira_app["containsData"], true);
    assert_eq!(jira_app["counts"]["issues"], 2);
}

#[tokio::test]
async fn confluence_spaces_page_trees_and_the_default_personal_space() {
    let app = spawn_app().await;
    let cloud = app.create_site("Wiki site").await;
    let spaces = format!("{}/confluence/spaces", app.site_path(&cloud));
    let (_, list) = app.get_json(&spaces).await;
    let defaults = list["items"].as_array().unwrap().clone();
    assert_eq!(defaults.len(), 1, "a new Confluence app has its creator's personal space: {list}");
    assert_eq!(defaults[0]["type"], "personal");

    let (status, space) = app.post_json(&spaces, json!({"key": "ENG", "name": "Engineering", "type": "global"})).await;
    assert_eq!(status, 201, "{space}");
    let pages = format!("{spaces}/ENG/pages");
    let (status, root) = app.post_json(&pages, json!({"title": "Home", "body": "<p>hi</p>", "comments": [{"body": "nice"}]})).await;
    assert_eq!(status, 201, "{root}");
    let root_id = root["pageId"].as_str().unwrap();
    let (status, child) = app.post_json(&pages, json!({"title": "Child", "body": "b", "parentId": root_id})).await;
    assert_eq!(status, 201, "{child}");
    assert_eq!(child["parentId"], root_id);
    let (status, _) = app.post_json(&pages, json!({"title": "Orphan", "body": "b", "parentId": "no-such-page"})).await;
    assert!(status == 400 || status == 404, "{status}");

    let (status, other) = app.post_json(&spaces, json!({"key": "OTHER", "name": "Other", "type": "global"})).await;
    assert_eq!(status, 201, "{other}");
    let (status, _) = app
        .post_json(&format!("{spaces}/OTHER/pages"), json!({"title": "Cross", "body": "b", "parentId": root_id}))
        .await;
    assert!(status == 400 || status == 404 || status == 422, "a parent from another space is refused: {status}");

    let (_, listed) = app.get_json(&pages).await;
    assert_eq!(listed["total"], 2);

    // A personal space's owner joins the directory when not in it yet.
    let (status, personal) = app
        .post_json(&spaces, json!({"key": "~someone", "name": "Someone", "type": "personal", "owner": "someone@acme.test"}))
        .await;
    assert_eq!(status, 201, "{personal}");
    assert_eq!(personal["owner"], "someone@acme.test");
    let (_, users) = app.get_json(&format!("/orgs/{}/users", app.org_id)).await;
    assert!(users["items"].as_array().unwrap().iter().any(|u| u["email"] == "someone@acme.test"));
    let (status, _) = app.post_json(&spaces, json!({"key": "~nobody", "name": "No owner", "type": "personal"})).await;
    assert!(status == 400 || status == 422, "a personal space needs an owner");

    // The default personal space is not user data, and can be deleted as the vendor asks.
    let key = defaults[0]["key"].as_str().unwrap();
    let res = app.api(reqwest::Method::DELETE, &format!("{spaces}/{key}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn attachment_bytes_round_trip_as_downloads() {
    let app = spawn_app().await;
    let cloud = app.create_site("Files").await;
    let site = app.site_path(&cloud);
    app.post_json(&format!("{site}/jira/projects"), json!({"key": "DOC", "name": "Docs"})).await;
    app.post_json(&format!("{site}/jira/projects/DOC/issues"), json!({"summary": "with file"})).await;

    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let res = app
        .api(reqwest::Method::POST, &format!("{site}/jira/issues/DOC-1/attachments?filename=report%20v1.bin"))
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let att: serde_json::Value = res.json().await.unwrap();
    assert_eq!(att["size"], bytes.len());
    assert_eq!(att["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));

    let res = app
        .api(reqwest::Method::GET, &format!("{site}/attachments/{}", att["attachmentId"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Pages take attachments too; an HTML upload still downloads as an attachment.
    let (_, list) = app.get_json(&format!("{site}/confluence/spaces")).await;
    let key = list["items"][0]["key"].as_str().unwrap().to_owned();
    let (_, page) = app.post_json(&format!("{site}/confluence/spaces/{key}/pages"), json!({"title": "P", "body": "b"})).await;
    let res = app
        .api(reqwest::Method::POST, &format!("{site}/confluence/pages/{}/attachments?filename=x.html", page["pageId"].as_str().unwrap()))
        .header("content-type", "text/html")
        .body("<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let html: serde_json::Value = res.json().await.unwrap();
    let res = app.api(reqwest::Method::GET, &format!("{site}/attachments/{}", html["attachmentId"].as_str().unwrap())).send().await.unwrap();
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));

    let (status, _) = app.get_json(&format!("{site}/attachments/does-not-exist")).await;
    assert_eq!(status, 404);
    let res = app
        .api(reqwest::Method::POST, &format!("{site}/jira/issues/DOC-99/attachments?filename=a"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app.api(reqwest::Method::POST, &format!("{site}/jira/issues/DOC-1/attachments")).body("x").send().await.unwrap();
    assert_eq!(res.status(), 400, "a filename is required");
}

#[tokio::test]
async fn uploads_over_the_limit_answer_413_and_store_nothing() {
    let app = spawn_app_with(|c| c.attachment_max_size = 1024).await;
    let cloud = app.create_site("Limits").await;
    let site = app.site_path(&cloud);
    app.post_json(&format!("{site}/jira/projects"), json!({"key": "LIM", "name": "Limits"})).await;
    app.post_json(&format!("{site}/jira/projects/LIM/issues"), json!({"summary": "s"})).await;
    let url = format!("{site}/jira/issues/LIM-1/attachments?filename=big.bin");

    // Announced by Content-Length…
    let res = app.api(reqwest::Method::POST, &url).body(vec![0u8; 4096]).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], "ATTACHMENT_TOO_LARGE");
    // …or discovered while streaming a chunked body.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..8).map(|_| Ok(vec![1u8; 512])).collect();
    let res = app
        .api(reqwest::Method::POST, &url)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let (_, apps) = app.get_json(&format!("{site}/apps")).await;
    let jira = apps["items"].as_array().unwrap().iter().find(|a| a["product"] == "JIRA").unwrap().clone();
    assert_eq!(jira["counts"]["attachments"], 0);
}
