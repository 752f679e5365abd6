use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use lifeboat_app::session::{ADMIN_ID, SIGN_IN_ID};
use lifeboat_domain::service::{identity, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use super::sessions::urlencode;
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login` from the sign-in form. Success: a new session id (no fixation), then a redirect to
/// where the admin was going. Failure: back to the form with a message. Too many failures for the
/// account or the address: 429 with `Retry-After` and a readable page.
#[tracing::instrument(skip_all, fields(addr = %addr.ip()))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = addr.ip();
    if let Some(wait) = state.login_throttle.blocked(&form.email, ip) {
        tracing::warn!("sign-in rate-limited");
        return too_many_attempts(wait.as_secs());
    }
    let next = safe_next(&form.next);
    // Counted before the (slow) password check, so a burst of parallel attempts cannot all slip
    // under the limit; a success takes its attempt back.
    state.login_throttle.record_attempt(&form.email, ip);
    match identity::authenticate_password(&state.backend.db, &form.email, &form.password).await {
        Ok(admin) => {
            state.login_throttle.record_success(&form.email, ip);
            let earlier = session.get::<String>(SIGN_IN_ID).await.ok().flatten();
            let sign_in_id = match identity::start_sign_in(&state.backend.db, &admin.admin_id).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(error = %e, "sign-in not recorded");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "The session could not be created.").into_response();
                }
            };
            if session.cycle_id().await.is_err()
                || session.insert(ADMIN_ID, &admin.admin_id).await.is_err()
                || session.insert(SIGN_IN_ID, &sign_in_id).await.is_err()
            {
                let _ = identity::end_sign_in(&state.backend.db, &sign_in_id).await;
                return (StatusCode::INTERNAL_SERVER_ERROR, "The session could not be created.").into_response();
            }
            // The session's earlier sign-in, if any, is replaced by this one.
            if let Some(earlier) = earlier {
                if let Err(e) = identity::end_sign_in(&state.backend.db, &earlier).await {
                    tracing::error!(error = %e, "earlier sign-in record not deleted");
                }
            }
            tracing::info!(admin = %admin.admin_id, "signed in");
            let target = next.unwrap_or_else(|| match admin.orgs.first() {
                Some(org) => format!("/orgs/{}/backup-and-restore", org.org_id),
                None => "/".to_owned(),
            });
            Redirect::to(&target).into_response()
        }
        Err(ServiceError::Unauthenticated { .. }) => {
            tracing::info!("sign-in failed");
            let mut location = "/login?error=invalid".to_owned();
            if let Some(next) = next {
                location.push_str(&format!("&next={}", urlencode(&next)));
            }
            Redirect::to(&location).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in error");
            (StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed because of a server error; it has been logged.")
                .into_response()
        }
    }
}

/// `POST /logout`: the sign-in and the session record are deleted and the cookie cleared.
pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    end_sign_in(&state, &session).await;
    let _ = session.flush().await;
    Redirect::to("/login?signed_out=1").into_response()
}

/// Deletes the session's sign-in record on the server, if it has one.
pub(super) async fn end_sign_in(state: &AppState, session: &Session) {
    let Some(id) = session.get::<String>(SIGN_IN_ID).await.ok().flatten() else { return };
    if let Err(e) = identity::end_sign_in(&state.backend.db, &id).await {
        tracing::error!(error = %e, "sign-in record not deleted");
    }
}

/// Only local paths of visible ASCII, so a crafted link cannot send an admin to another site after
/// sign-in (browsers drop tabs and newlines, so `/\t/evil.example` would become `//evil.example`).
fn safe_next(next: &str) -> Option<String> {
    let visible = next.bytes().all(|b| (0x21..=0x7e).contains(&b));
    let ok = visible
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/login")
        && next.len() <= 2048;
    ok.then(|| next.to_owned())
}

fn too_many_attempts(retry_after: u64) -> Response {
    let minutes = retry_after.div_ceil(60);
    let page = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Too many sign-in attempts · Lifeboat</title>
<link rel="stylesheet" href="/pkg/lifeboat.css"></head><body><main class="error-page" role="alert">
<h1>Too many sign-in attempts</h1><p>Too many failed sign-ins for this account or from this address. Try again in {minutes} minute(s).</p>
<a class="button primary" href="/login">Back to sign in</a></main></body></html>"#
    );
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after.to_string())], Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next("/orgs/1/sites").as_deref(), Some("/orgs/1/sites"));
        for bad in ["", "https://evil.example", "//evil.example", "/\\evil", "/login?x", "/\t/evil.example", "/\n/x", "/ /x"] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
    }
}
