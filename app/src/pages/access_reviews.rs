//! App-access reviews: restored groups' access grants nothing until an admin approves it here.

use leptos::prelude::*;
use leptos_meta::Title;
use lifeboat_domain::model::AccessReview;

use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::status::product_name;
use crate::server_fns::restore::{access_reviews, DecideReview};

#[component]
pub fn AccessReviewsPage() -> impl IntoView {
    let org_id = use_org_id();
    let decide = ServerAction::<DecideReview>::new();
    let reviews = Resource::new(move || (org_id.get(), decide.version().get()), |(org, _)| access_reviews(org));
    view! {
        <Title text="App access review"/>
        <h1>"Review app access for restored groups"</h1>
        <p class="muted">"A restored group's access is stored but grants nothing until you approve it. Deny drops it."</p>
        {move || decide.value().get().and_then(|r| r.err()).map(|e| view! { <div class="banner error" role="alert">{e.message}</div> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reviews.await {
                    Ok(list) if list.is_empty() => view! { <EmptyState title="Nothing to review" body="Every restored group's access has been reviewed."/> }.into_any(),
                    Ok(list) => {
                        let org = org_id.get_untracked();
                        let rows = list.into_iter().map(|r| view! { <ReviewRow r org_id=org.clone() decide/> }).collect_view();
                        view! {
                            <table class="table" aria-label="Access reviews">
                                <thead><tr><th>"Group"</th><th>"App"</th><th>"Role"</th><th></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReviewRow(r: AccessReview, org_id: String, decide: ServerAction<DecideReview>) -> impl IntoView {
    let form = |decision: &'static str, label: &'static str, group: String| {
        let (org, id) = (org_id.clone(), r.review_id.clone());
        view! {
            <ActionForm action=decide attr:class="inline">
                <input type="hidden" name="org_id" value=org/>
                <input type="hidden" name="review_id" value=id/>
                <input type="hidden" name="decision" value=decision/>
                <button type="submit" class="button" aria-label=format!("{label} {group}")>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <tr>
            <td>{r.group.clone()}</td>
            <td>{format!("{} ({})", product_name(r.product), r.cloud_id)}</td>
            <td>{r.role.as_str()}</td>
            <td class="actions">{form("approve", "Approve", r.group.clone())}{form("deny", "Deny", r.group.clone())}</td>
        </tr>
    }
}
