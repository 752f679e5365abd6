use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page (also sets the HTTP status when rendered on the server).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found"/>
        <main class="error-page">
            <h1>"Page not found"</h1>
            <p>"The page you asked for does not exist, or you do not have access to it."</p>
            <a class="button primary" href="/" rel="external">"Go to the dashboard"</a>
        </main>
    }
}
