//! *Settings › Backup and restore*: the page heading and its four tabs (each a nested route, so a
//! tab is a real link that works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

use crate::components::layout::use_org_id;
use crate::server_fns::restore::pending_access_reviews;

#[component]
pub fn BackupAndRestorePage() -> impl IntoView {
    let org_id = use_org_id();
    let base = move || format!("/orgs/{}/backup-and-restore", org_id.get());
    // Shown until every restored group's access has been approved or denied.
    // Asked again at every navigation between tabs (a restore may have just finished).
    let location = leptos_router::hooks::use_location();
    let pending = Resource::new(move || (org_id.get(), location.pathname.get(), location.search.get()), |(org, ..)| pending_access_reviews(org));
    view! {
        <Title text="Backup and restore"/>
        <h1>"Backup and restore"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let n = pending.await.unwrap_or(0);
                (n > 0).then(|| {
                    let href = format!("/orgs/{}/access-reviews", org_id.get_untracked());
                    view! {
                        <div class="banner warning" role="status" aria-label="Review app access for restored groups">
                            {format!("{n} restored group access grant(s) wait for your review. ")}
                            <a href=href>"Review app access for restored groups"</a>
                        </div>
                    }
                })
            })}
        </Suspense>
        <nav class="tabs" aria-label="Backup and restore">
            // `exact` keeps "Backups" (the base path) from matching the other tabs too.
            <A href=base exact=true>"Backups"</A>
            <A href=move || format!("{}/restore", base())>"Restore"</A>
            <A href=move || format!("{}/restores", base())>"Restores"</A>
            <A href=move || format!("{}/storage", base())>"Storage"</A>
        </nav>
        <section class="tab-panel">
            <Outlet/>
        </section>
    }
}
