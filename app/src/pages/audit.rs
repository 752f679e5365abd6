//! The audit log: every state-changing action in the organization, filterable by actor and action.
//! Filters are a GET form and paging is links, so the page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use lifeboat_domain::model::{AuditEntry, AuditOutcome};

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::pager::Pager;
use crate::components::status::fmt_time_seconds;
use crate::server_fns::audit::audit_log;

#[component]
pub fn AuditPage() -> impl IntoView {
    let org_id = use_org_id();
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let entries = Resource::new(
        move || (org_id.get(), param("actor"), param("action"), param("offset").parse::<u64>().unwrap_or(0)),
        |(org, actor, action, offset)| audit_log(org, actor, action, offset),
    );
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every change made in this organization: who, what, on which object, when, and how it ended."</p>
        <form method="get" class="filters" aria-label="Filter the audit log">
            <label>"Actor" <input type="text" name="actor" placeholder="email" value=move || param("actor")/></label>
            <label>"Action" <input type="text" name="action" placeholder="e.g. restore.create or policy." value=move || param("action")/></label>
            <button type="submit" class="button">"Filter"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) if page.items.is_empty() => view! { <EmptyState title="No entries" body="Nothing matches these filters yet."/> }.into_any(),
                    Ok(page) => {
                        let base = format!("/orgs/{}/audit?actor={}&action={}&", org_id.get_untracked(), urlencode(&param("actor")), urlencode(&param("action")));
                        let rows = page.items.into_iter().map(|e| view! { <AuditRow e/> }).collect_view();
                        view! {
                            <table class="table" aria-label="Audit log">
                                <thead><tr><th>"When"</th><th>"Actor"</th><th>"Action"</th><th>"Object"</th><th>"Outcome"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <Pager base offset=page.offset limit=page.limit total=page.total/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditRow(e: AuditEntry) -> impl IntoView {
    let outcome = match e.outcome {
        AuditOutcome::Success => view! { <span class="lozenge success">"Success"</span> }.into_any(),
        AuditOutcome::Failure => {
            let why = format!("{}: {}", e.code.clone().unwrap_or_default(), e.message.clone().unwrap_or_default());
            view! { <span class="lozenge danger" title=why.clone()>"Failed"</span><span class="muted small">{" "}{e.code.clone()}</span> }.into_any()
        }
    };
    view! {
        <tr>
            <td>{fmt_time_seconds(&e.at)}</td>
            <td>{e.actor_email}</td>
            <td><code>{e.action}</code></td>
            <td class="muted">{e.target.unwrap_or_default()}</td>
            <td>{outcome}</td>
        </tr>
    }
}

/// Query values in the paging links (emails carry `@` and `+`).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
