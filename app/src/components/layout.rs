use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_params_map;
use lifeboat_domain::model::SignedInAdmin;

use crate::components::error_panel::ErrorPanel;
use crate::server_fns::session::get_me;

/// The org id of the current `/orgs/:org_id/...` route.
pub fn use_org_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("org_id").unwrap_or_default())
}

/// Header (signed-in admin, organization switcher, sign out), navigation, then the page.
#[component]
pub fn DashboardLayout() -> impl IntoView {
    let org_id = use_org_id();
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <div class="dashboard">
            <Suspense fallback=|| view! { <header class="topbar"><span class="brand">"Lifeboat"</span></header> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(admin) => view! { <Header admin org_id=org_id.get()/> }.into_any(),
                        Err(error) => view! {
                            <header class="topbar"><span class="brand">"Lifeboat"</span></header>
                            <ErrorPanel error/>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <div class="dashboard-body">
                <nav class="sidenav" aria-label="Settings">
                    <h2 class="sidenav-title">"Settings"</h2>
                    <p class="sidenav-group">"Data management"</p>
                    <A href=move || format!("/orgs/{}/backup-and-restore", org_id.get())>"Backup and restore"</A>
                    <p class="sidenav-group">"Security"</p>
                    <A href=move || format!("/orgs/{}/audit", org_id.get())>"Audit log"</A>
                    <A href=move || format!("/orgs/{}/api-reference", org_id.get())>"API reference"</A>
                    <p class="sidenav-group">"Products"</p>
                    <A href=move || format!("/orgs/{}/sites", org_id.get())>"Sites"</A>
                </nav>
                <main class="content">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}

#[component]
fn Header(admin: SignedInAdmin, org_id: String) -> impl IntoView {
    let current = admin.orgs.iter().find(|o| o.org_id == org_id).cloned();
    let current_name = current.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| "Unknown organization".to_owned());
    let switcher = if admin.orgs.len() > 1 {
        let items = admin
            .orgs
            .iter()
            .map(|o| {
                let href = format!("/orgs/{}/backup-and-restore", o.org_id);
                let is_current = o.org_id == org_id;
                view! {
                    <li>
                        <a href=href aria-current=is_current.then_some("true")>{o.name.clone()}</a>
                    </li>
                }
            })
            .collect_view();
        view! {
            // <details> opens and closes without JavaScript.
            <details class="org-switcher">
                <summary aria-label="Switch organization">{current_name}</summary>
                <ul role="list">{items}</ul>
            </details>
        }
        .into_any()
    } else {
        view! { <span class="org-name">{current_name}</span> }.into_any()
    };
    view! {
        <header class="topbar">
            <a class="brand" href=format!("/orgs/{org_id}/backup-and-restore")>"Lifeboat"</a>
            {switcher}
            <span class="spacer"></span>
            <span class="signed-in-as" data-testid="signed-in-as">{admin.email.clone()}</span>
            <form method="post" action="/logout" class="inline-form">
                <button type="submit" class="button subtle">"Sign out"</button>
            </form>
        </header>
    }
}
