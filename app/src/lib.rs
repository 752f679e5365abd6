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
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

use crate::components::layout::DashboardLayout;
use crate::pages::access_reviews::AccessReviewsPage;
use crate::pages::api_reference::ApiReferencePage;
use crate::pages::audit::AuditPage;
use crate::pages::backups::BackupsTab;
use crate::pages::content_browser::{ConfluenceBrowserPage, JiraBrowserPage};
use crate::pages::restore_wizard::RestoreTab;
use crate::pages::restores::RestoresTab;
use crate::pages::storage::StorageTab;
use crate::pages::{backup_and_restore, login::LoginPage, not_found::NotFound, sites::SitesPage};

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
                        <Route path=path!("") view={Lazy::<BackupsRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/restore") view={Lazy::<RestoreRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/restores") view={Lazy::<RestoresRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/storage") view={Lazy::<StorageRoute>::new()} ssr=SsrMode::Async/>
                    </ParentRoute>
                    <Route path=path!("/access-reviews") view={Lazy::<AccessReviewsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/api-reference") view={Lazy::<ApiReferenceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/sites") view={Lazy::<SitesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/sites/:cloud_id/jira") view={Lazy::<JiraBrowserRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/sites/:cloud_id/confluence") view={Lazy::<ConfluenceBrowserRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Pages whose code the browser fetches only when it shows them: `cargo leptos build --split` cuts
/// each `view` below into its own WASM chunk (code shared by several pages into shared chunks), so
/// a first load carries the shell, the sign-in page and the page it lands on, not all ten. On the
/// server these are plain views.
macro_rules! lazy_pages {
    ($($route:ident => $view:expr),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $view.into_any()
            }
        }
    )*};
}

lazy_pages! {
    BackupsRoute => view! { <BackupsTab/> },
    RestoreRoute => view! { <RestoreTab/> },
    RestoresRoute => view! { <RestoresTab/> },
    StorageRoute => view! { <StorageTab/> },
    AccessReviewsRoute => view! { <AccessReviewsPage/> },
    AuditRoute => view! { <AuditPage/> },
    ApiReferenceRoute => view! { <ApiReferencePage/> },
    JiraBrowserRoute => view! { <JiraBrowserPage/> },
    ConfluenceBrowserRoute => view! { <ConfluenceBrowserPage/> },
    SitesRoute => view! { <SitesPage/> },
}
