use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn sites_are_created_with_their_apps_and_listed() {
    let app = spawn_app().await;
    let cloud = app.create_site("Acme Main").await;
    let (status, sites) = app.get_json(&format!("/orgs/{}/sites", app.org_id)).await;
    assert_eq!(status, 200);
    let site = &sites["items"][0];
    assert_eq!(site["cloudId"], cloud.as_str());
    assert_eq!(site["plan"], "PREMIUM");
    assert_eq!(site["shard"], "eu-1");
    assert_eq!(site["freeTrial"], false);

    let (status, apps) = app.get_json(&format!("{}/apps", app.site_path(&cloud))).await;
    assert_eq!(status, 200);
    let apps = apps["items"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    for a in apps {
        assert_eq!(a["containsData"], false, "a new app holds no user data: {a}");
        assert_eq!(a["shard"], "eu-1");
        assert_eq!(a["busy"], false);
    }
}

#[tokio::test]
async fn bad_site_requests_are_answered_with_codes() {
    let app = spawn_app().await;
    let path = format!("/orgs/{}/sites", app.org_id);
    let (status, body) = app.post_json(&path, json!({"name": "", "products": ["JIRA"]})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["code"].as_str().unwrap().starts_with("INVALID"));

    let (status, body) = app.post_json(&path, json!({"name": "x", "products": ["BITBUCKET"]})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "INVALID_BODY");

    let res = app.api(reqwest::Method::POST, &path).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], "INVALID_JSON");

    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let res = app.api(reqwest::Method::POST, &path).header("content-type", "application/json").body(huge).send().await.unwrap();
    assert_eq!(res.status(), 413);

    app.create_site("Twin").await;
    let (status, body) = app.post_json(&path, json!({"name": "Twin", "products": ["JIRA"]})).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn another_organizations_sites_answer_404_everywhere() {
    let app = spawn_app().await;
    let theirs = spawn_app().await; // a separate server: ids from it are unknown here anyway
    let foreign_cloud = theirs.create_site("Theirs").await;
    // An org in *this* server that the caller does not administer:
    let other = lifeboat_domain::service::identity::create_admin(&app.db, "x@globex.test", "Globex", PASSWORD, true)
        .await
        .unwrap();
    let other_token = lifeboat_domain::service::identity::create_token(&app.db, "x@globex.test", "t").await.unwrap().1;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/orgs/{}/sites", other.org.org_id)))
        .basic_auth("x@globex.test", Some(&other_token))
        .json(&json!({"name": "Globex site", "products": ["JIRA", "CONFLUENCE"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let globex_cloud = res.json::<serde_json::Value>().await.unwrap()["cloudId"].as_str().unwrap().to_owned();

    for path in [
        format!("/orgs/{}/sites", other.org.org_id),
        format!("/orgs/{}/users", other.org.org_id),
        format!("/orgs/{}/cloud/{globex_cloud}/apps", other.org.org_id),
        format!("/orgs/{}/cloud/{globex_cloud}/apps", app.org_id),
        format!("/orgs/{}/cloud/{globex_cloud}/jira/projects", app.org_id),
        format!("/orgs/{}/cloud/{globex_cloud}/apps/JIRA/digest", app.org_id),
        format!("/orgs/{}/cloud/{foreign_cloud}/confluence/spaces", app.org_id),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body["code"].is_string());
    }
    let (status, _) = app
        .post_json(&format!("/orgs/{}/cloud/{globex_cloud}/jira/projects", app.org_id), json!({"key": "HAX", "name": "x"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn users_and_groups_with_members_and_paging() {
    let app = spawn_app().await;
    let users = format!("/orgs/{}/users", app.org_id);
    for i in 0..3 {
        let (status, user) = app.post_json(&users, json!({"email": format!("u{i}@acme.test"), "displayName": format!("User {i}")})).await;
        assert_eq!(status, 201, "{user}");
        assert!(user["accountId"].is_string());
    }
    let (status, _) = app.post_json(&users, json!({"email": "U0@acme.test"})).await;
    assert_eq!(status, 409, "emails are unique per organization, whatever the case");
    let (status, body) = app.post_json(&users, json!({"email": "not an email"})).await;
    assert_eq!(status, 400, "{body}");

    let (_, page) = app.get_json(&format!("{users}?limit=2")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["nextOffset"], 2);
    let (_, rest) = app.get_json(&format!("{users}?limit=2&offset=2")).await;
    assert!(rest["items"].as_array().unwrap().len() >= 1);
    let (status, _) = app.get_json(&format!("{users}?limit=abc")).await;
    assert_eq!(status, 400);
    let (status, far) = app.get_json(&format!("{users}?offset={}", u64::MAX)).await;
    assert_eq!(status, 200, "a huge offset is an empty page, not an error: {far}");
    assert_eq!(far["items"].as_array().unwrap().len(), 0);
    assert!(far.get("nextOffset").is_none());

    let groups = format!("/orgs/{}/groups", app.org_id);
    let (status, group) = app.post_json(&groups, json!({"name": "engineers", "members": ["u0@acme.test", "u1@acme.test"], "custom": true})).await;
    assert_eq!(status, 201, "{group}");
    assert!(group["groupId"].is_string());
    assert_eq!(group["members"], json!(["u0@acme.test", "u1@acme.test"]));
    let (status, _) = app.post_json(&groups, json!({"name": "ghosts", "members": ["nobody@acme.test"]})).await;
    assert!(status == 400 || status == 404 || status == 422, "unknown member refused: {status}");
    let (status, _) = app.post_json(&groups, json!({"name": "engineers"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn app_access_grants_and_access_reviews() {
    let app = spawn_app().await;
    let cloud = app.create_site("Access").await;
    let (status, _) = app.post_json(&format!("/orgs/{}/groups", app.org_id), json!({"name": "devs", "members": []})).await;
    assert_eq!(status, 201);
    let (status, grant) = app.put_json(&format!("{}/apps/JIRA/access", app.site_path(&cloud)), json!({"group": "devs", "role": "USER"})).await;
    assert_eq!(status, 200, "{grant}");
    assert_eq!(grant["state"], "ACTIVE");
    let (status, _) = app.put_json(&format!("{}/apps/JIRA/access", app.site_path(&cloud)), json!({"group": "nope", "role": "USER"})).await;
    assert_eq!(status, 404);
    let (status, _) = app.put_json(&format!("{}/apps/TRELLO/access", app.site_path(&cloud)), json!({"group": "devs", "role": "USER"})).await;
    assert_eq!(status, 404);

    // Restores create pending grants; make two the way a restore will, then decide them over HTTP.
    for name in ["restored-a", "restored-b"] {
        let (status, _) = app.post_json(&format!("/orgs/{}/groups", app.org_id), json!({"name": name})).await;
        assert_eq!(status, 201);
        lifeboat_domain::service::platform::request_access_review(
            &app.db,
            &app.org_id,
            name,
            &cloud,
            lifeboat_domain::model::Product::Confluence,
            lifeboat_domain::model::Role::User,
        )
        .await
        .unwrap();
    }
    // A review request never takes away access a group already has.
    let kept = lifeboat_domain::service::platform::request_access_review(
        &app.db,
        &app.org_id,
        "devs",
        &cloud,
        lifeboat_domain::model::Product::Jira,
        lifeboat_domain::model::Role::User,
    )
    .await
    .unwrap();
    assert_eq!(kept.state, lifeboat_domain::model::AccessState::Active);

    // Reviews are shown only to admins of the app concerned.
    lifeboat_domain::service::identity::create_admin(&app.db, "orgonly@acme.test", "Acme", PASSWORD, false).await.unwrap();
    let org_only = lifeboat_domain::service::identity::create_token(&app.db, "orgonly@acme.test", "t").await.unwrap().1;
    let (_, hidden) = app.get_json_as(&format!("/orgs/{}/access-reviews", app.org_id), "orgonly@acme.test", &org_only).await;
    assert_eq!(hidden["items"].as_array().unwrap().len(), 0);
    // The dashboard's banner counts the same reviews: two for the app's admin, none for the other.
    let count = |cookie: String| {
        let form = [("org_id", app.org_id.clone())];
        let req = app.client.post(app.url("/sfn/pending_access_reviews")).header("cookie", cookie).header("origin", &app.base).form(&form);
        async move { req.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    assert_eq!(count(app.sign_in().await).await, json!(2));
    let org_only_cookie = session_cookie(app.post_login("orgonly@acme.test", PASSWORD, None).await.headers()).expect("signed in");
    assert_eq!(count(org_only_cookie).await, json!(0));

    let (status, reviews) = app.get_json(&format!("/orgs/{}/access-reviews", app.org_id)).await;
    assert_eq!(status, 200);
    let reviews = reviews["items"].as_array().unwrap().clone();
    assert_eq!(reviews.len(), 2);
    assert!(reviews.iter().all(|r| r["status"] == "PENDING_REVIEW"));
    let approve = format!("/orgs/{}/access-reviews/{}/approve", app.org_id, reviews[0]["reviewId"].as_str().unwrap());
    let (status, decided) = app.post_json(&approve, json!({})).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "APPROVED");
    let (status, _) = app.post_json(&approve, json!({})).await;
    assert_eq!(status, 409, "a decided review cannot be decided again");
    let deny = format!("/orgs/{}/access-reviews/{}/deny", app.org_id, reviews[1]["reviewId"].as_str().unwrap());
    let (_, denied) = app.post_json(&deny, json!({})).await;
    assert_eq!(denied["status"], "DENIED");
    let (_, left) = app.get_json(&format!("/orgs/{}/access-reviews", app.org_id)).await;
    assert_eq!(left["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn an_org_admin_without_app_admin_rights_gets_403_on_app_operations() {
    let app = spawn_app().await;
    let cloud = app.create_site("Guarded").await;
    let email = "orgonly@acme.test";
    lifeboat_domain::service::identity::create_admin(&app.db, email, "Acme", PASSWORD, false).await.unwrap();
    let token = lifeboat_domain::service::identity::create_token(&app.db, email, "t").await.unwrap().1;
    let get = |path: String| {
        let req = app.client.get(app.url(&format!("/api/v1{path}"))).basic_auth(email, Some(&token));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let site = app.site_path(&cloud);
    assert_eq!(get(format!("/orgs/{}/sites", app.org_id)).await, 200, "org-level reads stay open to org admins");
    for path in [
        format!("{site}/jira/projects"),
        format!("{site}/confluence/spaces"),
        format!("{site}/apps/JIRA/digest"),
        format!("{site}/apps/CONFLUENCE/access"),
    ] {
        assert_eq!(get(path.clone()).await, 403, "{path}");
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1{site}/jira/projects")))
        .basic_auth(email, Some(&token))
        .json(&json!({"key": "NOPE", "name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, projects) = app.get_json(&format!("{site}/jira/projects")).await;
    assert_eq!(projects["total"], 0, "nothing was created");
}
