use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

/// Sites and apps of the organization.
#[component]
pub fn SitesPage() -> impl IntoView {
    view! {
        <Title text="Sites"/>
        <h1>"Sites"</h1>
        <p class="muted">"The sites of this organization and the apps each one runs."</p>
        <EmptyState
            title="No sites yet"
            body="Sites and their Jira and Confluence apps appear here once they are created."
        />
    }
}
