//! The *Backups* tab: policies (create, edit, run now), their backups with live progress, cancel and
//! export, a details side panel (`?backup=<id>`, a real link), a chart of backup sizes, and paging
//! (`?offset=`, 50 backups a page).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use lifeboat_domain::model::{Backup, BackupStatus, Policy, Product, Storage};

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::pager::Pager;
use crate::components::status::{app_choices, site_name, fmt_bytes, fmt_time, product_name, ProgressBar, StatusLozenge};
use crate::server_fns::backup::{
    backups_overview, BackupsTabData, BACKUPS_PAGE, CancelBackup, CreatePolicy, ExportBackup, RunBackup, UpdatePolicy,
};

#[component]
pub fn BackupsTab() -> impl IntoView {
    let org_id = use_org_id();
    let create = ServerAction::<CreatePolicy>::new();
    let update = ServerAction::<UpdatePolicy>::new();
    let run = ServerAction::<RunBackup>::new();
    let cancel = ServerAction::<CancelBackup>::new();
    let export = ServerAction::<ExportBackup>::new();
    // Bumped once a second while a backup runs (in the browser), so progress moves by itself.
    let tick = RwSignal::new(0u32);
    let query = use_query_map();
    let offset = move || query.with(|q| q.get("offset").and_then(|o| o.parse::<u64>().ok()).unwrap_or(0));
    let overview = Resource::new(
        move || {
            (
                org_id.get(),
                offset(),
                create.version().get() + update.version().get() + run.version().get() + cancel.version().get(),
                export.version().get(),
                tick.get(),
            )
        },
        |(org, offset, ..)| backups_overview(org, offset),
    );
    Effect::new(move |_| {
        let running = overview.get().and_then(|r| r.ok()).is_some_and(|o| o.backups.iter().any(|b| b.status == BackupStatus::InProgress));
        if running {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(1));
        }
    });
    let feedback = move || {
        let errors = [
            create.value().get().and_then(|r| r.err()),
            update.value().get().and_then(|r| r.err()),
            run.value().get().and_then(|r| r.err()),
            cancel.value().get().and_then(|r| r.err()),
            export.value().get().and_then(|r| r.err()),
        ];
        errors.into_iter().flatten().last().map(|e| view! { <div class="banner error" role="alert">{e.message}</div> })
    };
    let exported = move || {
        export.value().get().and_then(|r| r.ok()).map(|_| {
            view! { <div class="banner info" role="status">"Export started. Follow it on the Storage tab."</div> }
        })
    };
    view! {
        <h2 class="visually-hidden">"Backups"</h2>
        {feedback}
        {exported}
        <Transition fallback=|| view! { <p class="muted">"Loading backups…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Overview o org_id=org_id.get_untracked() create update run cancel export/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(
    o: BackupsTabData,
    org_id: String,
    create: ServerAction<CreatePolicy>,
    update: ServerAction<UpdatePolicy>,
    run: ServerAction<RunBackup>,
    cancel: ServerAction<CancelBackup>,
    export: ServerAction<ExportBackup>,
) -> impl IntoView {
    let query = use_query_map();
    let selected = move || query.read().get("backup");
    let apps = app_choices(&o.sites);
    let sites = o.sites.clone();
    let site_name = move |cloud: &str| site_name(&sites, cloud);
    let storage_name = {
        let storages = o.storages.clone();
        move |id: &Option<String>| match id {
            None => "Managed storage".to_owned(),
            Some(id) => storages.iter().find(|s| &s.storage_id == id).map(|s| s.storage_name.clone()).unwrap_or_else(|| id.clone()),
        }
    };
    let details = {
        let backups = o.backups.clone();
        let site_name = site_name.clone();
        let storage_name = storage_name.clone();
        let org_id = org_id.clone();
        move || {
            selected().and_then(|id| backups.iter().find(|b| b.backup_id == id).cloned()).map(|b| {
                let site = site_name(&b.cloud_id);
                let storage = storage_name(&b.storage_id);
                view! { <DetailsPanel b site storage org_id=org_id.clone()/> }
            })
        }
    };
    let policies_view = if o.policies.is_empty() {
        view! {
            <EmptyState
                title="No backup policies yet"
                body="Create a policy to back up a Jira or Confluence app now or on a schedule."
            />
        }
        .into_any()
    } else {
        let rows = o
            .policies
            .iter()
            .cloned()
            .map(|p| {
                let app = format!("{} · {}", site_name(&p.cloud_id), product_name(p.product));
                let storage = storage_name(&p.storage_id);
                view! { <PolicyRow p app storage org_id=org_id.clone() storages=o.storages.clone() run update/> }
            })
            .collect_view();
        view! {
            <table class="table" aria-label="Backup policies">
                <thead><tr><th>"App"</th><th>"Storage"</th><th>"Schedule"</th><th>"Options"</th><th>"Status"</th><th>"Last backup"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let pager = (o.total_backups > BACKUPS_PAGE).then(|| {
        let base = format!("/orgs/{org_id}/backup-and-restore?");
        view! { <Pager base offset=o.offset limit=BACKUPS_PAGE as u32 total=o.total_backups/> }
    });
    let page_offset = o.offset;
    let backups_view = if o.backups.is_empty() {
        view! { <EmptyState title="No backups yet" body="Run a backup from a policy; it appears here with its progress."/> }.into_any()
    } else {
        let rows = o
            .backups
            .iter()
            .cloned()
            .map(|b| {
                let app = format!("{} · {}", site_name(&b.cloud_id), product_name(b.product));
                view! { <BackupRow b app org_id=org_id.clone() offset=page_offset cancel export/> }
            })
            .collect_view();
        view! {
            <table class="table" aria-label="Backups">
                <thead><tr><th>"App"</th><th>"Status"</th><th>"Created"</th><th>"Expires"</th><th>"Size"</th><th>"Stored"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="toolbar">
            <CreatePolicyForm action=create org_id=org_id.clone() apps storages=o.storages.clone()/>
        </div>
        <h3>"Policies"</h3>
        {policies_view}
        <h3>"Backups"</h3>
        <SizeChart backups=o.chart.clone()/>
        {backups_view}
        {pager}
        {details}
    }
}

fn schedule_text(p: &Policy) -> String {
    match &p.schedule {
        None => "Manual".into(),
        Some(s) => match s.day_of_week {
            Some(d) => format!("{} {} {} UTC", s.interval.as_str().to_ascii_lowercase(), d.as_str().to_ascii_lowercase(), s.time_of_day),
            None => format!("{} {} UTC", s.interval.as_str().to_ascii_lowercase(), s.time_of_day),
        },
    }
}

fn options_text(include_attachments: bool, include_users: bool, personal: Option<bool>) -> String {
    let mut parts = vec![];
    if include_attachments {
        parts.push("attachments");
    }
    if include_users {
        parts.push("users and groups");
    }
    if personal == Some(true) {
        parts.push("personal spaces");
    }
    if parts.is_empty() {
        "content only".into()
    } else {
        format!("with {}", parts.join(", "))
    }
}

#[component]
fn PolicyRow(
    p: Policy,
    app: String,
    storage: String,
    org_id: String,
    storages: Vec<Storage>,
    run: ServerAction<RunBackup>,
    update: ServerAction<UpdatePolicy>,
) -> impl IntoView {
    let last = p.last_backup_time.as_ref().map(fmt_time).unwrap_or_else(|| "Never".into());
    let label = format!("Run backup of {app} to {storage}");
    let (org_run, org_edit) = (org_id.clone(), org_id);
    let (id_run, id_edit) = (p.policy_id.clone(), p.policy_id.clone());
    let schedule = schedule_text(&p);
    let options = options_text(p.include_attachments, p.include_users_and_groups, p.include_personal_spaces);
    let status = p.status.as_str();
    let edit_label = format!("Edit policy of {app} on {storage}");
    view! {
        <tr>
            <td>{app.clone()}</td>
            <td>{storage}</td>
            <td>{schedule}</td>
            <td class="muted">{options}</td>
            <td><StatusLozenge status=status/></td>
            <td>{last}</td>
            <td class="actions">
                <ActionForm action=run attr:class="inline">
                    <input type="hidden" name="org_id" value=org_run/>
                    <input type="hidden" name="policy_id" value=id_run/>
                    <button type="submit" class="button primary" aria-label=label>"Run backup"</button>
                </ActionForm>
                <details class="edit-panel">
                    <summary class="button subtle">"Edit"</summary>
                    <ActionForm action=update attr:class="form" attr:aria-label=edit_label>
                        <input type="hidden" name="org_id" value=org_edit/>
                        <input type="hidden" name="policy_id" value=id_edit/>
                        <PolicyFields policy=Some(p) storages/>
                        <button type="submit" class="button primary">"Save"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}

/// The options and schedule fields of the create and edit forms.
#[component]
fn PolicyFields(policy: Option<Policy>, storages: Vec<Storage>) -> impl IntoView {
    let id = policy.as_ref().map(|p| p.policy_id.clone()).unwrap_or_else(|| "new".into());
    let p = policy.clone();
    let current_storage = p.as_ref().and_then(|p| p.storage_id.clone());
    let attachments = p.as_ref().map(|p| p.include_attachments).unwrap_or(true);
    let users = p.as_ref().map(|p| p.include_users_and_groups).unwrap_or(true);
    let personal = p.as_ref().and_then(|p| p.include_personal_spaces).unwrap_or(false);
    let schedule = p.as_ref().and_then(|p| p.schedule.clone());
    let interval = schedule.as_ref().map(|s| s.interval.as_str().to_owned()).unwrap_or_default();
    let time = schedule.as_ref().map(|s| s.time_of_day.clone()).unwrap_or_else(|| "02:00".into());
    let day = schedule.as_ref().and_then(|s| s.day_of_week).map(|d| d.as_str().to_owned()).unwrap_or_default();
    let storage_options = storages
        .into_iter()
        .map(|s| {
            let selected = current_storage.as_deref() == Some(s.storage_id.as_str());
            view! { <option value=s.storage_id.clone() selected=selected>{s.storage_name.clone()}</option> }
        })
        .collect_view();
    let is_jira = p.as_ref().is_some_and(|p| p.product == Product::Jira);
    view! {
        <label for=format!("storage-{id}")>"Storage"</label>
        <select id=format!("storage-{id}") name="storage_id">
            <option value="" selected=current_storage.is_none()>"Managed storage"</option>
            {storage_options}
        </select>
        <fieldset>
            <legend>"Include"</legend>
            <label><input type="checkbox" name="include_attachments" checked=attachments/>" Attachments"</label>
            <label><input type="checkbox" name="include_users_and_groups" checked=users/>" Users and groups"</label>
            {(!is_jira).then(|| view! {
                <label><input type="checkbox" name="include_personal_spaces" checked=personal/>" Personal spaces (Confluence)"</label>
            })}
        </fieldset>
        <label for=format!("interval-{id}")>"Schedule"</label>
        <select id=format!("interval-{id}") name="interval">
            <option value="" selected=interval.is_empty()>"Manual only"</option>
            <option value="ONCE" selected=interval == "ONCE">"Once"</option>
            <option value="DAILY" selected=interval == "DAILY">"Daily"</option>
            <option value="WEEKLY" selected=interval == "WEEKLY">"Weekly"</option>
        </select>
        <label for=format!("time-{id}")>"Time of day (UTC)"</label>
        <input id=format!("time-{id}") name="time_of_day" type="time" value=time/>
        <label for=format!("day-{id}")>"Day of week"</label>
        <select id=format!("day-{id}") name="day_of_week">
            {["", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"].into_iter().map(|d| {
                let label = if d.is_empty() { "—" } else { d };
                view! { <option value=d selected=day == d>{label}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
fn CreatePolicyForm(action: ServerAction<CreatePolicy>, org_id: String, apps: Vec<(String, String)>, storages: Vec<Storage>) -> impl IntoView {
    let options = apps.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view();
    view! {
        <details class="create-panel">
            <summary class="button primary">"Create policy"</summary>
            <ActionForm action=action attr:class="form inline-grid" attr:aria-label="Create policy">
                <input type="hidden" name="org_id" value=org_id/>
                <label for="policy-app">"App"</label>
                <select id="policy-app" name="app" required>{options}</select>
                <PolicyFields policy=None storages/>
                <button type="submit" class="button primary">"Create"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn BackupRow(
    b: Backup,
    app: String,
    org_id: String,
    /// The page the row is on, kept by the details link.
    offset: u64,
    cancel: ServerAction<CancelBackup>,
    export: ServerAction<ExportBackup>,
) -> impl IntoView {
    let running = b.status == BackupStatus::InProgress;
    let exportable = b.status.is_restorable() && b.storage_id.is_none();
    let details = if offset > 0 { format!("?backup={}&offset={offset}", b.backup_id) } else { format!("?backup={}", b.backup_id) };
    let app_value = format!("{}|{}", b.cloud_id, b.product.as_str());
    let progress_label = format!("Progress of the backup of {app}");
    let (org_cancel, org_export) = (org_id.clone(), org_id);
    let (id_cancel, id_export) = (b.backup_id.clone(), b.backup_id.clone());
    let details_label = format!("Details of the backup of {app} created {}", fmt_time(&b.created_at));
    view! {
        <tr>
            <td>{app.clone()}</td>
            <td>
                <StatusLozenge status=b.status.as_str()/>
                {running.then(|| view! { <ProgressBar percent=b.progress.percent label=progress_label/> <span class="muted small">{format!("{}%", b.progress.percent)}</span> })}
            </td>
            <td>{fmt_time(&b.created_at)}</td>
            <td>{fmt_time(&b.expiry_time)}</td>
            <td>{fmt_bytes(b.backup_size.data_size + b.backup_size.users_size + b.backup_size.attachments_size)}</td>
            <td>{fmt_bytes(b.backup_size.stored_size)}</td>
            <td class="actions">
                <a href=details class="button subtle" aria-label=details_label>"Details"</a>
                {running.then(move || view! {
                    <ActionForm action=cancel attr:class="inline">
                        <input type="hidden" name="org_id" value=org_cancel/>
                        <input type="hidden" name="backup_id" value=id_cancel/>
                        <button type="submit" class="button">"Cancel backup"</button>
                    </ActionForm>
                })}
                {exportable.then(move || view! {
                    <ActionForm action=export attr:class="inline">
                        <input type="hidden" name="org_id" value=org_export/>
                        <input type="hidden" name="backup_id" value=id_export/>
                        <input type="hidden" name="app" value=app_value/>
                        <button type="submit" class="button">"Export"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn DetailsPanel(b: Backup, site: String, storage: String, org_id: String) -> impl IntoView {
    let counts = b.counts.iter().map(|(k, v)| view! { <li>{format!("{v} {}", k.replace('_', " "))}</li> }).collect_view();
    let close = format!("/orgs/{org_id}/backup-and-restore");
    let s = b.backup_size.clone();
    view! {
        <aside class="side-panel" aria-label="Backup details">
            <header>
                <h3>"Backup details"</h3>
                <a href=close class="button subtle" aria-label="Close details">"Close"</a>
            </header>
            <dl>
                <dt>"App"</dt><dd>{format!("{site} · {}", product_name(b.product))}</dd>
                <dt>"Status"</dt><dd><StatusLozenge status=b.status.as_str()/></dd>
                <dt>"Status message"</dt><dd>{b.status_message.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Backup ID"</dt><dd><code>{b.backup_id.clone()}</code></dd>
                <dt>"Storage"</dt><dd>{storage}</dd>
                <dt>"Options"</dt><dd>{options_text(b.include_attachments, b.include_users_and_groups, Some(b.include_personal_spaces))}</dd>
                <dt>"Created"</dt><dd>{format!("{} by {}", fmt_time(&b.created_at), b.created_by)}</dd>
                <dt>"Completed"</dt><dd>{b.completed_at.as_ref().map(fmt_time).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Expires"</dt><dd>{fmt_time(&b.expiry_time)}</dd>
                <dt>"Logical size"</dt><dd>{format!("{} data, {} users, {} attachments", fmt_bytes(s.data_size), fmt_bytes(s.users_size), fmt_bytes(s.attachments_size))}</dd>
                <dt>"Stored size"</dt><dd>{fmt_bytes(s.stored_size)}</dd>
                <dt>"Missing attachments"</dt><dd>{b.missing_attachments}</dd>
                <dt>"Contents"</dt><dd><ul class="plain">{counts}</ul></dd>
            </dl>
        </aside>
    }
}

/// Logical and stored size of the last 20 finished backups, oldest first, as SVG bars.
#[component]
fn SizeChart(backups: Vec<Backup>) -> impl IntoView {
    let mut done: Vec<Backup> = backups.into_iter().filter(|b| b.status.is_restorable()).take(20).collect();
    done.reverse();
    if done.len() < 2 {
        return ().into_any();
    }
    let logical = |b: &Backup| b.backup_size.data_size + b.backup_size.users_size + b.backup_size.attachments_size;
    let max = done.iter().map(logical).max().unwrap_or(1).max(1) as f64;
    let bars = done
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * 24.0 + 4.0;
            let h = logical(b) as f64 / max * 60.0;
            let hs = (b.backup_size.stored_size as f64 / max * 60.0).min(60.0);
            view! {
                <g>
                    <title>{format!("{}: {} logical, {} stored", fmt_time(&b.created_at), fmt_bytes(logical(b)), fmt_bytes(b.backup_size.stored_size))}</title>
                    <rect x=x y=64.0 - h width="10" height=h class="bar-logical"/>
                    <rect x=x + 11.0 y=64.0 - hs width="10" height=hs class="bar-stored"/>
                </g>
            }
        })
        .collect_view();
    let width = done.len() * 24 + 8;
    view! {
        <figure class="size-chart">
            <svg role="img" aria-label="Backup size over time" width=width height="66" viewBox=format!("0 0 {width} 66")>{bars}</svg>
            <figcaption class="muted small">"Backup size over time: logical (dark) and stored (light)"</figcaption>
        </figure>
    }
    .into_any()
}
