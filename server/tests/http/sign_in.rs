use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn sign_in_page_renders_a_form_that_posts_without_javascript() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<form method="post" action="/login""#), "{html}");
    assert!(html.contains(r#"name="email""#) && html.contains(r#"name="password""#));
}

#[tokio::test]
async fn sign_in_success_sets_a_strict_http_only_cookie_and_opens_the_dashboard() {
    let app = spawn_app().await;
    let res = app.post_login("Admin@Acme.test", PASSWORD, None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/orgs/{}/backup-and-restore", app.org_id));
    let set_cookie = session_set_cookie(res.headers()).expect("session cookie");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain HTTP: no Secure flag: {set_cookie}");

    let cookie = session_cookie(res.headers()).unwrap();
    let page = app.get_with_cookie(&location(&res), &cookie).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Backup and restore"));
    assert!(html.contains("admin@acme.test"), "the header names the signed-in admin");
}

#[tokio::test]
async fn over_tls_the_cookie_is_secure_and_host_prefixed() {
    let app = spawn_app_with(|c| c.public_url = Some("https://backup.example.test".into())).await;
    let res = app
        .client
        .post(app.url("/login"))
        .header("origin", "https://backup.example.test")
        .form(&[("email", app.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let set_cookie = session_set_cookie(res.headers()).expect("session cookie");
    assert!(set_cookie.starts_with("__Host-lifeboat_session="), "{set_cookie}");
    assert!(set_cookie.contains("Secure") && set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    assert!(!set_cookie.contains("Domain="), "__Host- cookies carry no Domain");
    assert!(res.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn sign_in_issues_a_new_session_id_every_time() {
    let app = spawn_app().await;
    // A session id planted by an attacker is never adopted.
    let planted = "lifeboat_session=AAAAAAAAAAAAAAAAAAAAAA";
    let res = app.post_login(&app.email, PASSWORD, Some(planted)).await;
    let first = session_cookie(res.headers()).unwrap();
    assert_ne!(first, planted);

    // Signing in again with a live session cycles its id; the old id stops working.
    let res = app.post_login(&app.email, PASSWORD, Some(&first)).await;
    assert_eq!(res.status(), 303);
    let second = session_cookie(res.headers()).unwrap();
    assert_ne!(first, second);
    let old = app.get_with_cookie(&format!("/orgs/{}/sites", app.org_id), &first).await;
    assert_eq!(old.status(), 303, "the old session id no longer signs anyone in");
    let new = app.get_with_cookie(&format!("/orgs/{}/sites", app.org_id), &second).await;
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn wrong_password_and_unknown_account_fail_the_same_way() {
    let app = spawn_app().await;
    for (email, password) in [(app.email.as_str(), "wrong password here"), ("nobody@acme.test", PASSWORD)] {
        let res = app.post_login(email, password, None).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/login?error=invalid");
        assert!(session_cookie(res.headers()).is_none(), "no session for a failed sign-in");
    }
    let html = app.client.get(app.url("/login?error=invalid")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("The email address or password is incorrect."));
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let cookie = app.sign_in().await;
    let res = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?signed_out=1");
    let after = app.get_with_cookie(&format!("/orgs/{}/backup-and-restore", app.org_id), &cookie).await;
    assert_eq!(after.status(), 303);
    assert!(location(&after).starts_with("/login"));
}

/// The session layer saves the session after every request, so a request still in flight at
/// sign-out (a server function, a page) writes its copy of the session back. The sign-in record
/// deleted at sign-out keeps that copy signed out.
#[tokio::test]
async fn a_session_saved_back_after_sign_out_stays_signed_out() {
    let app = spawn_app().await;
    let cookie = app.sign_in().await;
    let sign_ins = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM dashboard_sign_ins").fetch_one(&app.server_db).await.unwrap() };
    assert_eq!(sign_ins().await, 1);
    // What the request in flight holds: the session record as it was before sign-out.
    sqlx::query("CREATE TABLE session_in_flight AS SELECT * FROM tower_sessions").execute(&app.server_db).await.unwrap();
    let res = app.client.post(app.url("/logout")).header("cookie", &cookie).header("origin", &app.base).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(sign_ins().await, 0, "sign-out deletes the sign-in");
    // The request in flight ends and saves its copy back.
    sqlx::query("INSERT INTO tower_sessions SELECT * FROM session_in_flight").execute(&app.server_db).await.unwrap();

    let page = app.get_with_cookie(&format!("/orgs/{}/backup-and-restore", app.org_id), &cookie).await;
    assert_eq!(page.status(), 303, "the saved-back session signs no one in");
    assert!(location(&page).starts_with("/login"));
    sqlx::query("INSERT OR REPLACE INTO tower_sessions SELECT * FROM session_in_flight").execute(&app.server_db).await.unwrap();
    let sfn = app.client.post(app.url("/sfn/me")).header("cookie", &cookie).header("origin", &app.base).send().await.unwrap();
    assert_eq!(sfn.status(), 401, "nor does it let a server function run");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&app.server_db).await.unwrap();
    assert_eq!(left, 0, "the saved-back session is deleted again");

    // Signing in again with the stale session works, and signing in twice from one session keeps
    // one sign-in.
    sqlx::query("INSERT OR REPLACE INTO tower_sessions SELECT * FROM session_in_flight").execute(&app.server_db).await.unwrap();
    let res = app.post_login(&app.email, PASSWORD, Some(&cookie)).await;
    assert_eq!(location(&res), format!("/orgs/{}/backup-and-restore", app.org_id));
    let cookie = session_cookie(res.headers()).unwrap();
    assert_eq!(app.get_with_cookie(&location(&res), &cookie).await.status(), 200);
    let again = app.post_login(&app.email, PASSWORD, Some(&cookie)).await;
    assert_eq!(again.status(), 303);
    assert_eq!(sign_ins().await, 1);
}

/// Assets are served outside the session layer: the layer saves the session after every request,
/// so an asset request in flight while the admin signs out would write the deleted session back.
#[tokio::test]
async fn assets_never_touch_the_session() {
    let app = spawn_app_with(|c| {
        let root = c.data_dir.join("site");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("pkg/app.js"), "// app").unwrap();
        std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
        c.site_root = root;
    })
    .await;
    let cookie = app.sign_in().await;
    for path in ["/pkg/app.js", "/favicon.svg"] {
        let res = app.get_with_cookie(path, &cookie).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers().get("set-cookie").is_none(), "{path} answers without a session cookie");
    }
    assert_eq!(app.get_with_cookie("/pkg/missing.js", &cookie).await.status(), 404);
    // A session is still saved by the pages themselves (its idle expiry moves on).
    let page = app.get_with_cookie(&format!("/orgs/{}/backup-and-restore", app.org_id), &cookie).await;
    assert!(page.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_account() {
    let app = spawn_app_with(|c| c.login_limit.per_account = 3).await;
    for _ in 0..3 {
        assert_eq!(app.post_login(&app.email, "wrong password here", None).await.status(), 303);
    }
    let res = app.post_login(&app.email, PASSWORD, None).await;
    assert_eq!(res.status(), 429, "even the right password waits once the account is locked");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    assert!(res.text().await.unwrap().contains("Too many sign-in attempts"));
    // The limit is per account: another account from the same address may still sign in.
    identity_admin(&app, "other@acme.test").await;
    assert_eq!(app.post_login("other@acme.test", PASSWORD, None).await.status(), 303);
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_address() {
    let app = spawn_app_with(|c| c.login_limit.per_address = 4).await;
    for i in 0..4 {
        let res = app.post_login(&format!("guess{i}@acme.test"), "wrong password here", None).await;
        assert_eq!(res.status(), 303);
    }
    assert_eq!(app.post_login("guess9@acme.test", "wrong password here", None).await.status(), 429);
}

#[tokio::test]
async fn sessions_end_after_the_absolute_timeout() {
    let session = lifeboat_server::config::SessionConfig { absolute_timeout: Duration::from_secs(2), idle_timeout: Duration::from_secs(60) };
    let app = spawn_app_with(|c| c.session = session.clone()).await;
    let cookie = app.sign_in().await;
    let path = format!("/orgs/{}/sites", app.org_id);
    assert_eq!(app.get_with_cookie(&path, &cookie).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    // The minutely cleanup keeps the record while the session could still be presented, so the
    // visitor is told the session expired, not merely that they are signed out.
    let retention = lifeboat_server::auth::sign_in_retention(&session);
    assert_eq!(lifeboat_domain::service::identity::end_sign_ins_older_than(&app.server_db, retention).await.unwrap(), 0);
    let res = app.get_with_cookie(&path, &cookie).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).contains("error=expired"), "{}", location(&res));
    let sign_ins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dashboard_sign_ins").fetch_one(&app.server_db).await.unwrap();
    assert_eq!(sign_ins, 0, "an expired session's sign-in is deleted");
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout_but_activity_keeps_them() {
    let app = spawn_app_with(|c| c.session.idle_timeout = Duration::from_secs(3)).await;
    let cookie = app.sign_in().await;
    let path = format!("/orgs/{}/sites", app.org_id);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(app.get_with_cookie(&path, &cookie).await.status(), 200, "activity extends the session");
    }
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert_eq!(app.get_with_cookie(&path, &cookie).await.status(), 303, "idle too long");
}

#[tokio::test]
async fn state_changing_requests_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("email", app.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "CROSS_ORIGIN_REFUSED");

    let cookie = app.sign_in().await;
    let res = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let still = app.get_with_cookie(&format!("/orgs/{}/sites", app.org_id), &cookie).await;
    assert_eq!(still.status(), 200, "the refused sign-out changed nothing");
}

async fn identity_admin(app: &TestApp, email: &str) {
    lifeboat_domain::service::identity::create_admin(&app.db, email, "Acme", PASSWORD, true).await.unwrap();
}
