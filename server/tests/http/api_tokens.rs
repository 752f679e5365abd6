use lifeboat_domain::service::identity;

use crate::helpers::*;

async fn token_for(app: &TestApp, email: &str) -> String {
    identity::create_token(&app.db, email, "tests").await.unwrap().1
}

async fn token_with_id(app: &TestApp, email: &str) -> (String, String) {
    let (info, secret) = identity::create_token(&app.db, email, "revocable").await.unwrap();
    (info.token_id, secret)
}

#[tokio::test]
async fn a_valid_token_authenticates_the_api() {
    let app = spawn_app().await;
    let token = token_for(&app, &app.email).await;
    let res = app.client.get(app.url("/api/v1/orgs")).basic_auth(&app.email, Some(&token)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["items"][0]["orgId"], app.org_id.as_str());
    assert_eq!(body["items"][0]["name"], "Acme");

    let one = app
        .client
        .get(app.url(&format!("/api/v1/orgs/{}", app.org_id)))
        .basic_auth(&app.email, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
}

#[tokio::test]
async fn wrong_missing_and_revoked_tokens_answer_401_with_a_json_error() {
    let app = spawn_app().await;
    let (token_id, token) = token_with_id(&app, &app.email).await;
    let url = app.url("/api/v1/orgs");

    let no_auth = app.client.get(&url).send().await.unwrap();
    assert_eq!(no_auth.status(), 401);
    assert!(no_auth.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let body: serde_json::Value = no_auth.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");
    assert!(body["message"].as_str().unwrap().len() > 10);

    let wrong = app.client.get(&url).basic_auth(&app.email, Some("lbt_0000")).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");

    let other_email = app.client.get(&url).basic_auth("someone@acme.test", Some(&token)).send().await.unwrap();
    assert_eq!(other_email.status(), 401, "a token only works with its owner's email");

    let garbage = app.client.get(&url).header("authorization", "Basic !!!not-base64").send().await.unwrap();
    assert_eq!(garbage.status(), 401);

    identity::revoke_token(&app.db, &app.email, &token_id).await.unwrap();
    let revoked = app.client.get(&url).basic_auth(&app.email, Some(&token)).send().await.unwrap();
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn another_organizations_ids_answer_404() {
    let app = spawn_app().await;
    let other = identity::create_admin(&app.db, "boss@globex.test", "Globex", PASSWORD, true).await.unwrap();
    let token = token_for(&app, &app.email).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/orgs/{}", other.org.org_id)))
        .basic_auth(&app.email, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "ORG_NOT_FOUND");

    let unknown = app.client.get(app.url("/api/v1/nope")).basic_auth(&app.email, Some(&token)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn api_calls_from_scripts_need_no_origin_header() {
    // The cross-origin check must not get in the way of curl-style clients.
    let app = spawn_app().await;
    let token = token_for(&app, &app.email).await;
    let res = app.client.post(app.url("/api/v1/orgs")).basic_auth(&app.email, Some(&token)).send().await.unwrap();
    assert_ne!(res.status(), 403);
}
