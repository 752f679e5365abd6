use crate::helpers::*;

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_with_their_destination() {
    let app = spawn_app().await;
    let path = format!("/orgs/{}/backup-and-restore/storage", app.org_id);
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/login?next={path}"));

    let home = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 303);
}

#[tokio::test]
async fn the_backup_and_restore_page_has_its_four_tabs() {
    let app = spawn_app().await;
    let cookie = app.sign_in().await;
    for (tab, heading) in [("", "Backups"), ("/restore", "Restore"), ("/restores", "Restores"), ("/storage", "Storage")] {
        let res = app.get_with_cookie(&format!("/orgs/{}/backup-and-restore{tab}", app.org_id), &cookie).await;
        assert_eq!(res.status(), 200, "tab {tab}");
        let html = res.text().await.unwrap();
        assert!(html.contains("<h1>Backup and restore</h1>"), "{html}");
        for label in ["Backups", "Restore", "Restores", "Storage"] {
            assert!(html.contains(&format!(">{label}</a>")), "tab link {label} on {tab}");
        }
        assert!(html.contains(&format!(r#"<h2 class="visually-hidden">{heading}</h2>"#)), "{tab}");
    }
    let home = app.get_with_cookie("/", &cookie).await;
    assert_eq!(location(&home), format!("/orgs/{}/backup-and-restore", app.org_id));
}

#[tokio::test]
async fn unknown_pages_answer_a_readable_404() {
    let app = spawn_app().await;
    let cookie = app.sign_in().await;
    let res = app.get_with_cookie(&format!("/orgs/{}/no-such-page", app.org_id), &cookie).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_org_switcher_lists_every_organization_of_the_admin() {
    let app = spawn_app().await;
    lifeboat_domain::service::identity::create_admin(&app.db, &app.email, "Second Org", PASSWORD, true).await.unwrap();
    let cookie = app.sign_in().await;
    let html = app
        .get_with_cookie(&format!("/orgs/{}/backup-and-restore", app.org_id), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Switch organization"), "{html}");
    assert!(html.contains("Second Org") && html.contains("Acme"));
}

#[tokio::test]
async fn server_functions_require_a_session() {
    let app = spawn_app().await;
    let anonymous = app.client.post(app.url("/sfn/me")).header("origin", &app.base).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");

    let cookie = app.sign_in().await;
    let me = app
        .client
        .post(app.url("/sfn/me"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["email"], "admin@acme.test");
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["referrer-policy"], "same-origin");
    assert!(res.headers().get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    // Scripts: this origin, or inline ones carrying this response's nonce — never 'unsafe-inline'.
    assert!(!csp.split(';').any(|d| d.contains("script-src") && d.contains("unsafe-inline")), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce in script-src").to_owned();
    let html = res.text().await.unwrap();
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0, "the page hydrates with an inline bootstrap");
    assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), inline_scripts, "every script carries the nonce: {html}");
    // A new nonce for every response.
    let again = app.client.get(app.url("/login")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(&nonce));
    // The API answers carry the static policy.
    let api = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert!(api.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn hsts_is_sent_when_served_over_tls() {
    let app = spawn_app_with(|c| c.public_url = Some("https://lifeboat.example".into())).await;
    let res = app.client.get(app.url("/login")).send().await.unwrap();
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
}

/// The Backups table pages (50 a page): a page view renders one page of rows however many backups
/// there are.
#[tokio::test]
async fn the_backups_table_pages() {
    let app = spawn_app_with(quick_jobs).await;
    let cloud = app.create_site("Paged").await;
    let policy = app.create_policy(&cloud, serde_json::json!({"product": "JIRA"})).await;
    let first = app.finished_backup(&app.start_backup(&policy).await).await;
    // 59 more rows like the real one (running 60 backups would only slow the test down).
    let mut b: lifeboat_domain::model::Backup = serde_json::from_value(first).unwrap();
    for i in 0..59 {
        b.backup_id = format!("0190b6c8-7d1e-7000-8000-{i:012}");
        b.created_at -= chrono::Duration::minutes(1);
        lifeboat_domain::store::backup::insert_backup(&app.db, &app.org_id, &b, 1).await.unwrap();
    }
    let cookie = app.sign_in().await;
    let page = |query: &'static str| {
        let path = format!("/orgs/{}/backup-and-restore{query}", app.org_id);
        let (app, cookie) = (&app, cookie.clone());
        async move { app.get_with_cookie(&path, &cookie).await.text().await.unwrap() }
    };
    let rows = |html: &str| html.split("aria-label=\"Backups\"").nth(1).unwrap().split("</table>").next().unwrap().matches("<tr").count() - 1;
    let html = page("").await;
    assert_eq!(rows(&html), 50);
    assert!(html.contains("1–50 of 60"), "{html}");
    let html = page("?offset=50").await;
    assert_eq!(rows(&html), 10);
    assert!(html.contains("51–60 of 60"));
    assert!(html.contains("?backup=0190b6c8-7d1e-7000-8000-000000000058&amp;offset=50"), "details links keep the page");
}
