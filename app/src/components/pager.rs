use leptos::prelude::*;

/// "Previous / Next" links for an offset-paginated table. Plain links, so paging works without
/// JavaScript; `base` is the page's URL with its other query parameters (ending in `?` or `&`).
#[component]
pub fn Pager(
    base: String,
    offset: u64,
    limit: u32,
    total: u64,
    /// The query parameter carrying the offset (two lists on one page need two).
    #[prop(default = "offset")]
    param: &'static str,
) -> impl IntoView {
    let limit = u64::from(limit);
    let prev = (offset > 0).then(|| format!("{base}{param}={}", offset.saturating_sub(limit)));
    let next = (offset + limit < total).then(|| format!("{base}{param}={}", offset + limit));
    let shown_to = (offset + limit).min(total);
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted">{format!("{}–{} of {}", if total == 0 { 0 } else { offset + 1 }, shown_to, total)}</span>
            {prev.map(|href| view! { <a class="button subtle" href=href>"Previous"</a> })}
            {next.map(|href| view! { <a class="button subtle" href=href>"Next"</a> })}
        </nav>
    }
}
