//! The *Restores* tab: every restore with its status and progress, and the post-operation report
//! of one (`?restore=<id>`, a real link) in a side panel.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use lifeboat_domain::model::{PostOpReport, Restore, RestoreStatus};

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::status::{fmt_time, product_name, site_name, ProgressBar, StatusLozenge};
use crate::server_fns::restore::{fetch_report, load_restores};

#[component]
pub fn RestoresTab() -> impl IntoView {
    let org_id = use_org_id();
    let query = use_query_map();
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || (org_id.get(), tick.get()), |(org, _)| load_restores(org));
    Effect::new(move |_| {
        if data.get().and_then(|r| r.ok()).is_some_and(|d| d.restores.iter().any(|r| r.status == RestoreStatus::InProgress)) {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(1));
        }
    });
    let selected = move || query.read().get("restore");
    let report = Resource::new(
        move || (org_id.get(), selected(), tick.get()),
        move |(org, id, _)| async move {
            let Some(id) = id else { return Ok(None) };
            let d = load_restores(org.clone()).await?;
            let Some(r) = d.restores.into_iter().find(|r| r.restore_id == id) else { return Ok(None) };
            match (&r.migration_id, r.status.is_finished()) {
                (Some(m), true) => fetch_report(org, r.cloud_id.clone(), m.clone()).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    view! {
        <h2 class="visually-hidden">"Restores"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading restores…"</p> }>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                if d.restores.is_empty() {
                    return view! { <EmptyState title="No restores yet" body="Restores you start appear here with their status and report."/> }.into_any();
                }
                let org = org_id.get_untracked();
                let rows = d.restores.iter().cloned().map(|r| {
                    let site = site_name(&d.sites, &r.cloud_id);
                    view! { <RestoreRow r site org_id=org.clone()/> }
                }).collect_view();
                let report_view = match report.await {
                    Ok(Some(rep)) => view! { <ReportPanel rep org_id=org.clone()/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                };
                view! {
                    <table class="table" aria-label="Restores">
                        <thead><tr><th>"Destination"</th><th>"Status"</th><th>"Started"</th><th>"Completed"</th><th>"Message"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {report_view}
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn RestoreRow(r: Restore, site: String, org_id: String) -> impl IntoView {
    let app = format!("{site} · {}", product_name(r.product));
    let running = r.status == RestoreStatus::InProgress;
    let link = match r.status {
        RestoreStatus::AwaitingConsent => Some((format!("/orgs/{org_id}/backup-and-restore/restore?restore={}", r.restore_id), "Give consent")),
        s if s.is_finished() && r.migration_id.is_some() => Some((format!("?restore={}", r.restore_id), "Report")),
        _ => None,
    };
    view! {
        <tr>
            <td>{app.clone()}</td>
            <td>
                <StatusLozenge status=r.status.as_str()/>
                {running.then(|| view! { <ProgressBar percent=r.progress.percent label=format!("Progress of the restore into {app}")/> })}
            </td>
            <td>{fmt_time(&r.created_at)}</td>
            <td>{r.completed_at.as_ref().map(fmt_time).unwrap_or_default()}</td>
            <td class="muted small">{r.status_message.clone().unwrap_or_default()}</td>
            <td>{link.map(|(href, label)| view! { <a href=href class="button subtle" aria-label=format!("{label}: restore into {app}")>{label}</a> })}</td>
        </tr>
    }
}

#[component]
fn ReportPanel(rep: PostOpReport, org_id: String) -> impl IntoView {
    let rows = rep
        .entities
        .iter()
        .map(|(kind, e)| {
            let skipped = e.skipped.iter().take(50).map(|s| format!("{} ({})", s.key, s.reason)).collect::<Vec<_>>().join("; ");
            view! { <tr><td>{kind.replace('_', " ")}</td><td>{e.create}</td><td>{e.merge}</td><td>{e.skip}</td><td class="small">{skipped}</td></tr> }
        })
        .collect_view();
    let close = format!("/orgs/{org_id}/backup-and-restore/restores");
    view! {
        <aside class="side-panel wide" aria-label="Post-operation report">
            <header>
                <h3>"Post-operation report"</h3>
                <a href=close class="button subtle" aria-label="Close report">"Close"</a>
            </header>
            <dl>
                <dt>"Migration ID"</dt><dd><code>{rep.migration_id.clone()}</code></dd>
                <dt>"Status"</dt><dd>{rep.status.label()}</dd>
                <dt>"Requested by"</dt><dd>{rep.requested_by.clone()}</dd>
                <dt>"Started"</dt><dd>{fmt_time(&rep.started_at)}</dd>
                <dt>"Duration"</dt><dd>{format!("{:.1} s", rep.duration_ms as f64 / 1000.0)}</dd>
                <dt>"Consents"</dt><dd>{if rep.consents.is_empty() { "None needed".to_owned() } else { rep.consents.join(", ") }}</dd>
            </dl>
            <table class="table" aria-label="Restored entities">
                <thead><tr><th>"Kind"</th><th>"Created"</th><th>"Merged"</th><th>"Skipped"</th><th>"Why skipped"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </aside>
    }
}
