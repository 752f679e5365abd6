//! The *Restore* tab: the wizard of the vendor's console — Select app → Select backup → Review
//! backup → Select destination → Validate → Review. Each step is a URL (query parameters carry
//! the choices so far), so Back is the browser's and the wizard works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use lifeboat_domain::model::{Backup, CheckResult, Product, Restore, RestoreStatus};

use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::status::{fmt_bytes, fmt_time, product_name, site_name, StatusLozenge};
use crate::server_fns::restore::{get_restore, load_wizard, CreateRestore, StartRestore, WizardData};

const STEPS: [&str; 6] = ["Select app", "Select backup", "Review backup", "Select destination", "Validate", "Review"];

#[component]
fn Stepper(current: usize) -> impl IntoView {
    let items = STEPS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let class = if i < current { "done" } else if i == current { "current" } else { "" };
            view! { <li class=class aria-current=(i == current).then_some("step")>{*s}</li> }
        })
        .collect_view();
    view! { <ol class="stepper" aria-label="Restore steps">{items}</ol> }
}

#[component]
pub fn RestoreTab() -> impl IntoView {
    let org_id = use_org_id();
    let query = use_query_map();
    let data = Resource::new(move || org_id.get(), load_wizard);
    let restore_id = move || query.read().get("restore");
    let restore = Resource::new(move || (org_id.get(), restore_id()), |(org, id)| async move {
        match id {
            Some(id) => get_restore(org, id).await.map(Some),
            None => Ok(None),
        }
    });
    let create = ServerAction::<CreateRestore>::new();
    let start = ServerAction::<StartRestore>::new();
    let error = move || {
        [create.value().get().and_then(|r| r.err()), start.value().get().and_then(|r| r.err())]
            .into_iter()
            .flatten()
            .last()
            .map(|e| view! { <div class="banner error" role="alert">{e.message}</div> })
    };
    view! {
        <h2 class="visually-hidden">"Restore"</h2>
        {error}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let data = match data.await {
                    Ok(d) => d,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                match restore.await {
                    Ok(Some(r)) => view! { <ValidateOrReview r data org_id=org_id.get_untracked() start/> }.into_any(),
                    Ok(None) => view! { <Choose data org_id=org_id.get_untracked() create/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Steps 1–4, from the query: `product`, `backup`, `options`, then the destination.
#[component]
fn Choose(data: WizardData, org_id: String, create: ServerAction<CreateRestore>) -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read_untracked().get(k).filter(|v| !v.is_empty());
    let product = q("product").and_then(|p| Product::parse(&p));
    let backup = q("backup").and_then(|id| data.backups.iter().find(|b| b.backup_id == id).cloned());
    let options_done = q("options").is_some();
    match (product, backup, options_done) {
        (None, _, _) => view! {
            <Stepper current=0/>
            <form method="get" class="form wizard-step" aria-label="Select app">
                <fieldset>
                    <legend>"Which app do you want to restore?"</legend>
                    <label><input type="radio" name="product" value="JIRA" checked/>" Jira"</label>
                    <label><input type="radio" name="product" value="CONFLUENCE"/>" Confluence"</label>
                </fieldset>
                <button type="submit" class="button primary">"Next"</button>
            </form>
        }
        .into_any(),
        (Some(p), None, _) => {
            let candidates: Vec<Backup> = data.backups.iter().filter(|b| b.product == p).cloned().collect();
            let rows = candidates
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let label = format!("{} backup of {} created {}", product_name(b.product), site_name(&data.sites, &b.cloud_id), fmt_time(&b.created_at));
                    view! {
                        <tr>
                            <td><input type="radio" name="backup" value=b.backup_id.clone() checked=i == 0 aria-label=label/></td>
                            <td>{site_name(&data.sites, &b.cloud_id)}</td>
                            <td><StatusLozenge status=b.status.as_str()/></td>
                            <td>{fmt_time(&b.created_at)}</td>
                            <td>{fmt_time(&b.expiry_time)}</td>
                            <td>{fmt_bytes(b.backup_size.data_size + b.backup_size.users_size + b.backup_size.attachments_size)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <Stepper current=1/>
                {if candidates.is_empty() {
                    view! {
                        <div class="empty-state" role="status">
                            <h3>"Nothing to restore yet"</h3>
                            <p>{format!("No restorable {} backup. Run one from the Backups tab.", product_name(p))}</p>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <form method="get" class="wizard-step" aria-label="Select backup">
                            <input type="hidden" name="product" value=p.as_str()/>
                            <table class="table" aria-label="Restorable backups">
                                <thead><tr><th></th><th>"Site"</th><th>"Status"</th><th>"Created"</th><th>"Expires"</th><th>"Size"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <button type="submit" class="button primary">"Next"</button>
                        </form>
                    }.into_any()
                }}
            }
            .into_any()
        }
        (Some(p), Some(b), false) => view! {
            <Stepper current=2/>
            <form method="get" class="form wizard-step" aria-label="Review backup">
                <input type="hidden" name="product" value=p.as_str()/>
                <input type="hidden" name="backup" value=b.backup_id.clone()/>
                <input type="hidden" name="options" value="1"/>
                <dl class="summary">
                    <dt>"Backup"</dt><dd>{format!("{} · {}", site_name(&data.sites, &b.cloud_id), product_name(b.product))}</dd>
                    <dt>"Created"</dt><dd>{fmt_time(&b.created_at)}</dd>
                    <dt>"Status"</dt><dd><StatusLozenge status=b.status.as_str()/></dd>
                </dl>
                <fieldset>
                    <legend>"Restore"</legend>
                    <label><input type="checkbox" name="attachments" checked=b.include_attachments disabled=!b.include_attachments/>" Attachments"</label>
                    <label><input type="checkbox" name="users" checked=b.include_users_and_groups disabled=!b.include_users_and_groups/>" Users and groups"</label>
                    {(p == Product::Confluence).then(|| view! {
                        <label><input type="checkbox" name="personal" checked=b.include_personal_spaces disabled=!b.include_personal_spaces/>" Personal spaces"</label>
                    })}
                </fieldset>
                <button type="submit" class="button primary">"Next"</button>
            </form>
        }
        .into_any(),
        (Some(p), Some(b), true) => {
            let empty_only = q("empty").is_some();
            let same_shard = q("shard").is_some();
            let source_shard = data
                .sites
                .iter()
                .find(|s| s.cloud_id == b.cloud_id)
                .and_then(|s| s.apps.iter().find(|a| a.product == p))
                .map(|a| a.shard.clone())
                .unwrap_or_default();
            let carry = |name: &'static str| q(name).map(|v| view! { <input type="hidden" name=name value=v/> });
            let candidates: Vec<(String, String, bool, String)> = data
                .sites
                .iter()
                .filter(|s| s.cloud_id != b.cloud_id)
                .filter_map(|s| s.apps.iter().find(|a| a.product == p).map(|a| (s.cloud_id.clone(), s.name.clone(), a.contains_data, a.shard.clone())))
                .filter(|(_, _, data, shard)| (!empty_only || !*data) && (!same_shard || *shard == source_shard))
                .collect();
            let rows = candidates
                .iter()
                .enumerate()
                .map(|(i, (id, name, has_data, shard))| {
                    view! {
                        <tr>
                            <td><input type="radio" name="dest" value=id.clone() checked=i == 0 aria-label=format!("Restore into {name}")/></td>
                            <td>{name.clone()}</td>
                            <td>{if *has_data { "Yes" } else { "No" }}</td>
                            <td>{shard.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            let none = candidates.is_empty();
            view! {
                <Stepper current=3/>
                <form method="get" class="filters" aria-label="Destination filters">
                    {carry("product")}{carry("backup")}{carry("options")}{carry("attachments")}{carry("users")}{carry("personal")}
                    <label><input type="checkbox" name="empty" checked=empty_only/>" Contain data: No"</label>
                    <label><input type="checkbox" name="shard" checked=same_shard/>" Show apps in the backup's shard"</label>
                    <button type="submit" class="button subtle">"Apply filters"</button>
                </form>
                <ActionForm action=create attr:class="wizard-step" attr:aria-label="Select destination">
                    <input type="hidden" name="org_id" value=org_id/>
                    <input type="hidden" name="product" value=p.as_str()/>
                    <input type="hidden" name="backup" value=b.backup_id.clone()/>
                    {q("attachments").map(|_| view! { <input type="hidden" name="attachments" value="on"/> })}
                    {q("users").map(|_| view! { <input type="hidden" name="users" value="on"/> })}
                    {q("personal").map(|_| view! { <input type="hidden" name="personal" value="on"/> })}
                    <table class="table" aria-label="Destinations">
                        <thead><tr><th></th><th>"Site"</th><th>"Contains data"</th><th>"Shard"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {none.then(|| view! { <p class="muted">"No site matches. Change the filters or create a site."</p> })}
                    <button type="submit" class="button primary" disabled=none>"Validate"</button>
                </ActionForm>
            }
            .into_any()
        }
    }
}

/// Steps 5 and 6 of a created restore: its checks, the plan and the consents, then the summary.
#[component]
fn ValidateOrReview(r: Restore, data: WizardData, org_id: String, start: ServerAction<StartRestore>) -> impl IntoView {
    let query = use_query_map();
    let reviewing = query.read_untracked().get("review").is_some();
    let consents: Vec<String> = query.read_untracked().get_all("consent").unwrap_or_default();
    let dest = site_name(&data.sites, &r.cloud_id);
    if r.status != RestoreStatus::AwaitingConsent {
        let restores = format!("/orgs/{org_id}/backup-and-restore/restores?restore={}", r.restore_id);
        return view! {
            <Stepper current=5/>
            <div class="banner info" role="status">
                {format!("This restore into {dest} is {}. ", r.status.label())}
                {r.status_message.clone().unwrap_or_default()}
                " " <a href=restores>"See it on the Restores tab"</a>
            </div>
        }
        .into_any();
    }
    let checks = r
        .checks
        .iter()
        .map(|c| {
            let class = match c.result {
                CheckResult::Pass => "lozenge success",
                CheckResult::Warning => "lozenge warning",
                CheckResult::Fail => "lozenge danger",
            };
            view! { <tr><td>{c.name.replace('_', " ")}</td><td><span class=class>{c.result.as_str()}</span></td><td>{c.message.clone()}</td></tr> }
        })
        .collect_view();
    let plan = r
        .plan
        .iter()
        .map(|(kind, e)| {
            let skipped = e.skipped.iter().take(20).map(|s| format!("{} ({})", s.key, s.reason)).collect::<Vec<_>>().join("; ");
            view! { <tr><td>{kind.replace('_', " ")}</td><td>{e.create}</td><td>{e.merge}</td><td>{e.skip}</td><td class="muted small">{skipped}</td></tr> }
        })
        .collect_view();
    let plan_view = view! {
        <table class="table" aria-label="Restore plan">
            <thead><tr><th>"Kind"</th><th>"Create"</th><th>"Merge"</th><th>"Skip"</th><th>"Skipped, and why"</th></tr></thead>
            <tbody>{plan}</tbody>
        </table>
    };
    if reviewing {
        let summary = consents.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view();
        let back = format!("/orgs/{org_id}/backup-and-restore/restore?restore={}", r.restore_id);
        return view! {
            <Stepper current=5/>
            <h3>{format!("Restore into {dest}")}</h3>
            {plan_view}
            <h4>"Your consents"</h4>
            <ul>{summary}</ul>
            <ActionForm action=start attr:class="wizard-step" attr:aria-label="Review">
                <input type="hidden" name="org_id" value=org_id/>
                <input type="hidden" name="dest" value=r.cloud_id.clone()/>
                <input type="hidden" name="restore_id" value=r.restore_id.clone()/>
                <input type="hidden" name="consents" value=consents.join(",")/>
                <a href=back class="button subtle">"Back"</a>
                <button type="submit" class="button primary">"Restore"</button>
            </ActionForm>
        }
        .into_any();
    }
    let boxes = r
        .checks
        .iter()
        .filter(|c| c.result == CheckResult::Warning)
        .map(|c| {
            if c.name == "Custom_Group_Check" {
                view! {
                    <fieldset>
                        <legend>"Custom groups"</legend>
                        <label><input type="radio" name="consent" value="Accept_Custom_Group_Check"/>" Restore the custom groups"</label>
                        <label><input type="radio" name="consent" value="Deny_Custom_Group_Check"/>" Restore without the custom groups"</label>
                    </fieldset>
                }
                .into_any()
            } else {
                let consent = c.consent.clone().unwrap_or_default();
                view! { <label><input type="checkbox" name="consent" value=consent.clone()/>{format!(" I agree: {}", c.message)}</label> }.into_any()
            }
        })
        .collect_view();
    view! {
        <Stepper current=4/>
        <h3>{format!("Validation of the restore into {dest}")}</h3>
        {r.status_message.clone().map(|m| view! { <p class="muted">{m}</p> })}
        <table class="table" aria-label="Validation checks">
            <thead><tr><th>"Check"</th><th>"Result"</th><th>"Details"</th></tr></thead>
            <tbody>{checks}</tbody>
        </table>
        <h4>"What the restore will do"</h4>
        {plan_view}
        <form method="get" class="form wizard-step" aria-label="Consents">
            <input type="hidden" name="restore" value=r.restore_id.clone()/>
            <input type="hidden" name="review" value="1"/>
            {boxes}
            <button type="submit" class="button primary">"Next"</button>
        </form>
    }
    .into_any()
}
