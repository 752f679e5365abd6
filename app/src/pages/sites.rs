use leptos::prelude::*;
use leptos_meta::Title;
use lifeboat_domain::model::{App, Product, Site};

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::server_fns::content::{list_sites, CreateSite};

/// Sites and apps of the organization: plan, shard, what each app contains.
#[component]
pub fn SitesPage() -> impl IntoView {
    let org_id = use_org_id();
    let create = ServerAction::<CreateSite>::new();
    // Refetch after every site created from the form.
    let sites = Resource::new(move || (org_id.get(), create.version().get()), |(org, _)| list_sites(org));
    view! {
        <Title text="Sites"/>
        <h1>"Sites"</h1>
        <p class="muted">"The sites of this organization and the apps each one runs."</p>
        <CreateSiteForm action=create org_id=org_id/>
        <Suspense fallback=|| view! { <p class="muted">"Loading sites…"</p> }>
            {move || Suspend::new(async move {
                match sites.await {
                    Ok(sites) if sites.is_empty() => view! {
                        <EmptyState
                            title="No sites yet"
                            body="Sites and their Jira and Confluence apps appear here once they are created."
                        />
                    }.into_any(),
                    Ok(sites) => view! { <SitesTable sites org_id=org_id.get_untracked()/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SitesTable(sites: Vec<Site>, org_id: String) -> impl IntoView {
    let rows = sites
        .into_iter()
        .flat_map(|site| {
            let org_id = org_id.clone();
            let site_name = site.name.clone();
            let plan = site.plan.as_str().to_owned();
            let trial = site.free_trial;
            site.apps.into_iter().map(move |app| {
                view! { <AppRow org_id=org_id.clone() site_name=site_name.clone() plan=plan.clone() trial app/> }
            })
        })
        .collect_view();
    view! {
        <table class="table" aria-label="Sites and apps">
            <thead>
                <tr>
                    <th>"Site"</th>
                    <th>"App"</th>
                    <th>"Plan"</th>
                    <th>"Shard"</th>
                    <th>"Contains data"</th>
                    <th>"Content"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn AppRow(org_id: String, site_name: String, plan: String, trial: bool, app: App) -> impl IntoView {
    let product_name = match app.product {
        Product::Jira => "Jira",
        Product::Confluence => "Confluence",
    };
    let counts = app.counts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(" · ");
    let browse = format!("/orgs/{org_id}/sites/{}/{}", app.cloud_id, app.product.as_str().to_ascii_lowercase());
    view! {
        <tr>
            <td>{site_name}{trial.then(|| view! { <span class="lozenge">"Free trial"</span> })}</td>
            <td>{product_name}</td>
            <td>{plan}</td>
            <td>{app.shard.clone()}</td>
            <td>
                <span class=if app.contains_data { "lozenge success" } else { "lozenge" }>
                    {if app.contains_data { "Yes" } else { "No" }}
                </span>
            </td>
            <td class="muted">{counts}</td>
            <td><a href=browse aria-label=format!("Browse {product_name} content")>"Browse"</a></td>
        </tr>
    }
}

/// Creates a site with its apps (for example an empty destination for a restore). A server-function
/// form: it posts and reloads without JavaScript, and stays on the page once hydrated.
#[component]
fn CreateSiteForm(action: ServerAction<CreateSite>, org_id: Memo<String>) -> impl IntoView {
    let result = action.value();
    view! {
        <details class="create-panel">
            <summary class="button primary">"Create site"</summary>
            <ActionForm action=action attr:class="form inline-grid" attr:aria-label="Create site">
                <input type="hidden" name="org_id" value=move || org_id.get()/>
                <label for="site-name">"Site name"</label>
                <input id="site-name" name="name" type="text" required maxlength="200"/>
                <label for="site-plan">"Plan"</label>
                <select id="site-plan" name="plan">
                    <option value="FREE">"Free"</option>
                    <option value="STANDARD" selected>"Standard"</option>
                    <option value="PREMIUM">"Premium"</option>
                    <option value="ENTERPRISE">"Enterprise"</option>
                </select>
                <label for="site-shard">"Shard"</label>
                <input id="site-shard" name="shard" type="text" value="shard-1" required/>
                <fieldset>
                    <legend>"Apps"</legend>
                    <label><input type="checkbox" name="jira" checked/>" Jira"</label>
                    <label><input type="checkbox" name="confluence" checked/>" Confluence"</label>
                    <label><input type="checkbox" name="free_trial"/>" Free trial"</label>
                </fieldset>
                <button type="submit" class="button primary">"Create"</button>
            </ActionForm>
            {move || match result.get() {
                Some(Ok(site)) => view! { <div class="banner info" role="status">{format!("Site {} created.", site.name)}</div> }.into_any(),
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message}</div> }.into_any(),
                None => ().into_any(),
            }}
        </details>
    }
}
