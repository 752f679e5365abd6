use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The sign-in form. A plain HTML form posting to `/login`, so it works before hydration and with
/// JavaScript disabled; the server answers with a redirect (or 429 when rate-limited).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|code| match code.as_str() {
            "invalid" => "The email address or password is incorrect.",
            "expired" => "Your session has ended. Sign in again.",
            "origin" => "The sign-in request came from another site and was refused.",
            _ => "Sign-in failed. Try again.",
        })
    };
    let signed_out = move || query.read().get("signed_out").is_some();
    let next = move || query.read().get("next").unwrap_or_default();
    let (show_password, set_show_password) = signal(false);

    view! {
        <Title text="Sign in"/>
        <main class="login-page">
            <div class="login-card">
                <h1 class="brand-large">"Lifeboat"</h1>
                <p class="muted">"Backup and restore for your organization's sites"</p>
                {move || error().map(|message| view! { <div class="banner error" role="alert">{message}</div> })}
                {move || signed_out().then(|| view! { <div class="banner info" role="status">"You have signed out."</div> })}
                <form method="post" action="/login" class="form">
                    <input type="hidden" name="next" value=next/>
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required/>
                    <label for="password">"Password"</label>
                    <div class="password-row">
                        <input
                            id="password"
                            name="password"
                            type=move || if show_password.get() { "text" } else { "password" }
                            autocomplete="current-password"
                            required
                        />
                        // Works only once hydrated; without JavaScript the password stays hidden.
                        <button
                            type="button"
                            class="button subtle"
                            aria-pressed=move || show_password.get().to_string()
                            on:click=move |_| set_show_password.update(|s| *s = !*s)
                        >
                            {move || if show_password.get() { "Hide password" } else { "Show password" }}
                        </button>
                    </div>
                    <button type="submit" class="button primary">"Sign in"</button>
                </form>
            </div>
        </main>
    }
}
