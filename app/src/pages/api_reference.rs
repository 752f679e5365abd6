//! API reference: every REST operation, grouped as in the OpenAPI document, with its body and
//! answers; the full document (schemas, errors) is one link away.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_panel::ErrorPanel;
use crate::server_fns::api_reference::{api_reference, ApiOperation};

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let ops = Resource::new(|| (), |_| api_reference());
    view! {
        <Title text="API reference"/>
        <h1>"API reference"</h1>
        <p class="muted">
            "JSON under " <code>"/api/v1"</code> ", HTTP Basic with your email and an API token (" <code>"lifeboat token create"</code>
            "). Errors are " <code>"{\"code\", \"message\"}"</code> " with 400, 401, 403, 404, 409, 413, 415, 422 or 429. The machine-readable document: "
            <a href="/api/v1/openapi.json" rel="external">"openapi.json"</a> "."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ops.await {
                    Ok(ops) => {
                        let mut tags: Vec<String> = ops.iter().map(|o| o.tag.clone()).collect();
                        tags.dedup();
                        tags.sort();
                        tags.dedup();
                        tags.into_iter().map(|tag| {
                            let rows = ops.iter().filter(|o| o.tag == tag).cloned().map(|o| view! { <OperationRow o/> }).collect_view();
                            view! {
                                <h2>{tag.clone()}</h2>
                                <table class="table" aria-label=tag>
                                    <thead><tr><th>"Method"</th><th>"Path"</th><th>"Body"</th><th>"Answer"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                        }).collect_view().into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OperationRow(o: ApiOperation) -> impl IntoView {
    let query = (!o.query.is_empty()).then(|| format!("?{}", o.query.join("&")));
    let answers = o.answers.iter().map(|(status, schema)| format!("{status} {schema}")).collect::<Vec<_>>().join(", ");
    view! {
        <tr>
            <td><span class="lozenge info">{o.method}</span></td>
            <td><code>{o.path}</code><span class="muted">{query}</span>{(!o.summary.is_empty()).then(|| view! { <div class="muted small">{o.summary}</div> })}</td>
            <td>{o.body.unwrap_or_default()}</td>
            <td>{answers}</td>
        </tr>
    }
}
