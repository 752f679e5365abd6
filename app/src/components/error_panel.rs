use leptos::prelude::*;

use crate::error::AppError;

/// A readable error message (never a blank page); offers sign-in again when the session ended.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let sign_in = error.is_unauthenticated().then(|| view! { <a class="button" href="/login">"Sign in"</a> });
    view! {
        <div class="error-panel" role="alert">
            <strong>"Something went wrong"</strong>
            <p>{error.message.clone()}</p>
            <p class="error-code">"Code: " {error.code.clone()}</p>
            {sign_in}
        </div>
    }
}
