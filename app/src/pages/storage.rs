//! The *Storage* tab: external storages (create with the region list, details), exports and
//! imports with their status, and *Import* of an exported backup.

use leptos::prelude::*;
use lifeboat_domain::model::{Export, Import, Storage, StorageType, TransferStatus};

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::status::{app_choices, site_name, fmt_bytes, fmt_time, product_name, StatusLozenge};
use crate::server_fns::backup::{storage_overview, CreateStorage, ImportBackup, StorageTabData};

#[component]
pub fn StorageTab() -> impl IntoView {
    let org_id = use_org_id();
    let create = ServerAction::<CreateStorage>::new();
    let import = ServerAction::<ImportBackup>::new();
    let tick = RwSignal::new(0u32);
    let overview = Resource::new(
        move || (org_id.get(), create.version().get() + import.version().get(), tick.get()),
        |(org, ..)| storage_overview(org),
    );
    Effect::new(move |_| {
        let running = overview.get().and_then(|r| r.ok()).is_some_and(|o| {
            o.exports.iter().any(|e| e.status == TransferStatus::InProgress)
                || o.imports.iter().any(|i| i.status == TransferStatus::InProgress)
        });
        if running {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(1));
        }
    });
    let feedback = move || {
        [create.value().get().and_then(|r| r.err()), import.value().get().and_then(|r| r.err())]
            .into_iter()
            .flatten()
            .last()
            .map(|e| view! { <div class="banner error" role="alert">{e.message}</div> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|s| {
            view! { <div class="banner info" role="status">{format!("Storage {} created and reachable.", s.storage_name)}</div> }
        })
    };
    view! {
        <h2 class="visually-hidden">"Storage"</h2>
        {feedback}
        {created}
        <Transition fallback=|| view! { <p class="muted">"Loading storages…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Overview o org_id=org_id.get_untracked() create import/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(o: StorageTabData, org_id: String, create: ServerAction<CreateStorage>, import: ServerAction<ImportBackup>) -> impl IntoView {
    let sites = o.sites.clone();
    let site_name = move |cloud: &str| site_name(&sites, cloud);
    let apps = app_choices(&o.sites);
    let storages = if o.storages.is_empty() {
        view! {
            <EmptyState
                title="No external storage yet"
                body="Connect an S3-compatible bucket or a directory to keep backups outside managed storage."
            />
        }
        .into_any()
    } else {
        let rows = o.storages.iter().cloned().map(|s| view! { <StorageRow s/> }).collect_view();
        view! {
            <table class="table" aria-label="Storages">
                <thead><tr><th>"Name"</th><th>"Type"</th><th>"Location"</th><th>"Created"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let exports = if o.exports.is_empty() {
        view! { <p class="muted">"No exports yet. Export a backup from the Backups tab."</p> }.into_any()
    } else {
        let rows = o.exports.iter().cloned().map(|e| { let site = site_name(&e.cloud_id); view! { <ExportRow e site/> } }).collect_view();
        view! {
            <table class="table" aria-label="Exports">
                <thead><tr><th>"App"</th><th>"Backup"</th><th>"Status"</th><th>"Copied"</th><th>"Started"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let imports = if o.imports.is_empty() {
        view! { <p class="muted">"No imports yet."</p> }.into_any()
    } else {
        let rows = o.imports.iter().cloned().map(|i| view! { <ImportRow site=site_name(&i.cloud_id) i/> }).collect_view();
        view! {
            <table class="table" aria-label="Imports">
                <thead><tr><th>"App"</th><th>"Exported backup"</th><th>"Status"</th><th>"Imported as"</th><th>"Started"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="toolbar">
            <CreateStorageForm action=create org_id=org_id.clone() regions=o.regions.clone() sites=o.sites.iter().map(|s| (s.cloud_id.clone(), s.name.clone())).collect()/>
            <ImportForm action=import org_id apps/>
        </div>
        <h3>"External storages"</h3>
        {storages}
        <h3>"Exports"</h3>
        {exports}
        <h3>"Imports"</h3>
        {imports}
    }
}

#[component]
fn StorageRow(s: Storage) -> impl IntoView {
    let location = match s.storage_type {
        StorageType::Aws => format!(
            "s3://{}/{}{}",
            s.storage_name,
            s.storage_prefix,
            s.endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default()
        ),
        StorageType::Filesystem => s.path.clone().unwrap_or_default(),
    };
    let kind = match s.storage_type {
        StorageType::Aws => "S3",
        StorageType::Filesystem => "Directory",
    };
    view! {
        <tr>
            <td>{s.storage_name.clone()}</td>
            <td>{kind}</td>
            <td class="muted">{location}</td>
            <td>{fmt_time(&s.created_at)}</td>
            <td>
                <details class="edit-panel">
                    <summary class="button subtle">"Details"</summary>
                    <dl aria-label=format!("Details of {}", s.storage_name)>
                        <dt>"Storage ID"</dt><dd><code>{s.storage_id.clone()}</code></dd>
                        <dt>"Region"</dt><dd>{s.storage_region.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Prefix"</dt><dd>{if s.storage_prefix.is_empty() { "—".to_owned() } else { s.storage_prefix.clone() }}</dd>
                        <dt>"Credentials"</dt><dd>{if s.has_credentials { "Stored encrypted (never shown)" } else { "None" }}</dd>
                        <dt>"Created by"</dt><dd>{s.created_by.clone()}</dd>
                    </dl>
                </details>
            </td>
        </tr>
    }
}

#[component]
fn ExportRow(e: Export, site: String) -> impl IntoView {
    view! {
        <tr>
            <td>{format!("{site} · {}", product_name(e.product))}</td>
            <td><code>{e.backup_id.clone()}</code></td>
            <td>
                <StatusLozenge status=e.status.as_str()/>
                {e.status_message.clone().map(|m| view! { <div class="muted small">{m}</div> })}
            </td>
            <td>{fmt_bytes(e.copied_bytes)}</td>
            <td>{fmt_time(&e.created_at)}</td>
        </tr>
    }
}

#[component]
fn ImportRow(i: Import, site: String) -> impl IntoView {
    view! {
        <tr>
            <td>{format!("{site} · {}", product_name(i.product))}</td>
            <td><code>{i.backup_id.clone()}</code></td>
            <td>
                <StatusLozenge status=i.status.as_str()/>
                {i.status_message.clone().map(|m| view! { <div class="muted small">{m}</div> })}
            </td>
            <td><code>{i.imported_backup_id.clone().unwrap_or_default()}</code></td>
            <td>{fmt_time(&i.created_at)}</td>
        </tr>
    }
}

#[component]
fn CreateStorageForm(action: ServerAction<CreateStorage>, org_id: String, regions: Vec<String>, sites: Vec<(String, String)>) -> impl IntoView {
    let regions = regions.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view();
    let sites = sites.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view();
    view! {
        <details class="create-panel">
            <summary class="button primary">"Create storage"</summary>
            <ActionForm action=action attr:class="form inline-grid" attr:aria-label="Create storage">
                <input type="hidden" name="org_id" value=org_id/>
                <label for="storage-type">"Type"</label>
                <select id="storage-type" name="storage_type">
                    <option value="aws">"S3-compatible bucket"</option>
                    <option value="filesystem">"Directory on the server"</option>
                </select>
                <label for="storage-name">"Name (the bucket, for S3)"</label>
                <input id="storage-name" name="storage_name" type="text" maxlength="200"/>
                <label for="storage-region">"Region"</label>
                <select id="storage-region" name="storage_region">{regions}</select>
                <label for="storage-prefix">"Prefix"</label>
                <input id="storage-prefix" name="storage_prefix" type="text"/>
                <label for="storage-endpoint">"Endpoint (S3-compatible services)"</label>
                <input id="storage-endpoint" name="endpoint" type="url" placeholder="https://s3.example.com"/>
                <label for="storage-key">"Access key ID"</label>
                <input id="storage-key" name="access_key_id" type="text" autocomplete="off"/>
                <label for="storage-secret">"Secret access key"</label>
                <input id="storage-secret" name="secret_access_key" type="password" autocomplete="new-password"/>
                <label for="storage-path">"Directory (for a directory storage)"</label>
                <input id="storage-path" name="path" type="text" placeholder="/srv/lifeboat/external-storage/team"/>
                <label for="storage-site">"Site"</label>
                <select id="storage-site" name="cloud_id">
                    <option value="">"Any site of this organization"</option>
                    {sites}
                </select>
                <button type="submit" class="button primary">"Create"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn ImportForm(action: ServerAction<ImportBackup>, org_id: String, apps: Vec<(String, String)>) -> impl IntoView {
    let options = apps.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view();
    view! {
        <details class="create-panel">
            <summary class="button">"Import"</summary>
            <ActionForm action=action attr:class="form inline-grid" attr:aria-label="Import backup">
                <input type="hidden" name="org_id" value=org_id/>
                <label for="import-app">"App"</label>
                <select id="import-app" name="app" required>{options}</select>
                <label for="import-backup">"Exported backup ID"</label>
                <input id="import-backup" name="backup_id" type="text" required/>
                <button type="submit" class="button primary">"Import"</button>
            </ActionForm>
        </details>
    }
}
