use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use lifeboat_app::session::{ADMIN_ID, SIGN_IN_ID};
use lifeboat_domain::service::identity::{self, SignInState};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use crate::config::Config;
use crate::startup::AppState;

/// Server-side sessions in the database. The cookie is HttpOnly and SameSite=Strict; over TLS it is
/// also Secure and `__Host-` prefixed (bound to this host, path `/`, no Domain). The record expires
/// after `idle_timeout` without a request (`always_save` pushes the expiry forward on each one).
pub fn session_layer(store: SqliteStore, config: &Config) -> SessionManagerLayer<SqliteStore> {
    let tls = config.served_over_tls();
    let idle = time::Duration::try_from(config.session.idle_timeout).unwrap_or(time::Duration::minutes(30));
    SessionManagerLayer::new(store)
        .with_name(if tls { "__Host-lifeboat_session" } else { "lifeboat_session" })
        .with_secure(tls)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Paths a signed-out visitor may reach (the compiled assets are served outside this layer:
/// `startup::router`).
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/logout" || path == "/healthz"
}

/// Ends sessions older than the absolute timeout or whose sign-in no longer stands on the server
/// (signed out: see `identity::start_sign_in`), and sends signed-out visitors of dashboard pages to
/// the sign-in page (server functions answer UNAUTHENTICATED themselves: the session they read is
/// the one flushed here).
pub async fn session_guard(State(state): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    let mut signed_in = false;
    let mut expired = false;
    let path = request.uri().path();
    if let Some(admin_id) = session.get::<String>(ADMIN_ID).await.ok().flatten() {
        let sign_in_id: Option<String> = session.get(SIGN_IN_ID).await.ok().flatten();
        let timeout = state.config.session.absolute_timeout;
        signed_in = match &sign_in_id {
            // The sign-in's record is the one clock of the absolute timeout.
            Some(id) => match identity::sign_in_state(&state.backend.db, id, &admin_id, timeout).await {
                Ok(SignInState::Stands) => true,
                Ok(SignInState::Expired) => {
                    expired = true;
                    false
                }
                Ok(SignInState::Ended) => false,
                // Signing in and out need no check (both replace the sign-in), so they still work
                // with the database failing; anything else waits, the session left as it is.
                Err(e) if is_public(path) => {
                    tracing::warn!(error = %e, "the session's sign-in could not be checked");
                    return next.run(request).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "the session's sign-in could not be checked");
                    return (StatusCode::SERVICE_UNAVAILABLE, "The session could not be checked; try again.").into_response();
                }
            },
            None => false,
        };
        if !signed_in {
            if expired {
                super::login::end_sign_in(&state, &session).await;
            }
            let _ = session.flush().await;
        }
    }

    let is_page = matches!(*request.method(), Method::GET | Method::HEAD) && !path.starts_with(lifeboat_app::server_fns::SERVER_FN_PREFIX);
    if !signed_in && is_page && !is_public(path) {
        let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut location = format!("/login?next={}", urlencode(target));
        if expired {
            location.push_str("&error=expired");
        }
        return Redirect::to(&location).into_response();
    }
    next.run(request).await
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// How long a sign-in's record is kept: until no session could still present it. Past the absolute
/// timeout its session has ended, but one used just before then stays in the store for the idle
/// timeout more, and the guard needs the record to tell such a visitor that the session *expired*
/// (the record gone, it could only say signed out).
pub fn sign_in_retention(session: &crate::config::SessionConfig) -> std::time::Duration {
    session.absolute_timeout.saturating_add(session.idle_timeout)
}

/// Every minute, forgets the sign-ins past [`sign_in_retention`]: their sessions have ended, and one
/// that idled out or was dropped by its browser left its record behind.
pub async fn forget_ended_sign_ins(db: lifeboat_domain::store::Db, retention: std::time::Duration) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        if let Err(e) = identity::end_sign_ins_older_than(&db, retention).await {
            tracing::warn!(error = %e, "ended sign-ins not deleted");
        }
    }
}
