//! Lifeboat's dashboard: a Leptos app rendered on the server and hydrated in the browser.
//!
//! Pages live in `pages/` (one file per page), shared widgets in `components/`, server functions in
//! `server_fns/` (thin: they authenticate and call `lifeboat_domain::service`).

pub mod components;
pub mod error;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::layout::DashboardLayout;
use crate::pages::{access_reviews, api_reference, audit, backup_and_restore, backups, restore_wizard, restores, content_browser, login::LoginPage, not_found::NotFound, sites::SitesPage, storage};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this origin or carrying this response's
/// nonce (leptos_axum puts one on every inline script it writes: the hydration bootstrap and
/// streamed resources), so an injected inline script cannot run. WebAssembly needs
/// 'wasm-unsafe-eval'; inline `style` attributes stay allowed (the size chart uses them).
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos::nonce::use_nonce;
    let Some(nonce) = use_nonce() else { return };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let (Some(options), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&policy)) {
        options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/lifeboat.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|text| format!("{text} · Lifeboat")/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage/>
                // Dashboard pages render whole on the server before the first byte (SsrMode::Async): their
                // data is then in the HTML itself, so they work with JavaScript disabled.
                <ParentRoute path=path!("/orgs/:org_id") view=DashboardLayout ssr=SsrMode::Async>
                    <ParentRoute path=path!("/backup-and-restore") view=backup_and_restore::BackupAndRestorePage ssr=SsrMode::Async>
                        <Route path=path!("") view=backups::BackupsTab ssr=SsrMode::Async/>
                        <Route path=path!("/restore") view=restore_wizard::RestoreTab ssr=SsrMode::Async/>
                        <Route path=path!("/restores") view=restores::RestoresTab ssr=SsrMode::Async/>
                        <Route path=path!("/storage") view=storage::StorageTab ssr=SsrMode::Async/>
                    </ParentRoute>
                    <Route path=path!("/access-reviews") view=access_reviews::AccessReviewsPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/api-reference") view=api_reference::ApiReferencePage ssr=SsrMode::Async/>
                    <Route path=path!("/sites") view=SitesPage ssr=SsrMode::Async/>
                    <Route path=path!("/sites/:cloud_id/jira") view=content_browser::JiraBrowserPage ssr=SsrMode::Async/>
                    <Route path=path!("/sites/:cloud_id/confluence") view=content_browser::ConfluenceBrowserPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
