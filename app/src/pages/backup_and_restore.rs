//! *Settings › Backup and restore*: the page heading and its four tabs (each a nested route, so a
//! tab is a real link that works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

use crate::components::empty_state::EmptyState;
use crate::components::layout::use_org_id;

#[component]
pub fn BackupAndRestorePage() -> impl IntoView {
    let org_id = use_org_id();
    let base = move || format!("/orgs/{}/backup-and-restore", org_id.get());
    view! {
        <Title text="Backup and restore"/>
        <h1>"Backup and restore"</h1>
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

#[component]
pub fn RestoreTab() -> impl IntoView {
    view! {
        <h2 class="visually-hidden">"Restore"</h2>
        <EmptyState
            title="Nothing to restore yet"
            body="Once an app has a complete backup, you can restore it into another site of this organization."
        />
    }
}

#[component]
pub fn RestoresTab() -> impl IntoView {
    view! {
        <h2 class="visually-hidden">"Restores"</h2>
        <EmptyState title="No restores yet" body="Restores you start appear here with their status and report."/>
    }
}
