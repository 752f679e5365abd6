use leptos::prelude::*;

/// A calm "nothing here yet" block with a heading and a sentence on what will appear.
#[component]
pub fn EmptyState(#[prop(into)] title: String, #[prop(into)] body: String) -> impl IntoView {
    view! {
        <div class="empty-state" role="status">
            <h3>{title}</h3>
            <p>{body}</p>
        </div>
    }
}
