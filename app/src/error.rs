//! The error type that crosses the wire from server functions to the dashboard.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// A readable error with a stable code; never carries an internal cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        AppError { code: code.into(), message: message.into() }
    }

    pub fn is_unauthenticated(&self) -> bool {
        self.code == "UNAUTHENTICATED"
    }
}

impl FromServerFnError for AppError {
    // Decoded from text, as the answers are (see `server_fns::JsonText`).
    type Encoder = crate::server_fns::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => {
                AppError::new("NETWORK_ERROR", "The server could not be reached. Check your connection and try again.")
            }
            other => AppError::new("REQUEST_FAILED", other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<lifeboat_domain::service::ServiceError> for AppError {
    fn from(e: lifeboat_domain::service::ServiceError) -> Self {
        if let lifeboat_domain::service::ServiceError::Unexpected(cause) = &e {
            leptos::logging::error!("server function failed: {cause}");
        }
        answer_with_status(e.http_status());
        AppError::new(e.code(), e.public_message())
    }
}

/// Bad input to a server function: 400, like the REST API's validation errors.
#[cfg(feature = "ssr")]
pub fn invalid(code: &'static str, message: &str) -> AppError {
    lifeboat_domain::service::ServiceError::validation(code, message).into()
}

/// Makes a server function's error answer with the REST API's status for it (409 for a conflict…)
/// rather than leptos' default 500, so that logs and monitoring tell a refused request from a server
/// fault; the dashboard reads the `{code, message}` body either way. Left alone: a plain form post
/// (no JavaScript), which leptos answers with a redirect back to the page, and a page being
/// rendered, whose resources call server functions in-process.
#[cfg(feature = "ssr")]
pub fn answer_with_status(status: u16) {
    use leptos::prelude::use_context;
    let Some(parts) = use_context::<http::request::Parts>() else { return };
    let from_script = parts.uri.path().starts_with(crate::server_fns::SERVER_FN_PREFIX)
        && !parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if let (true, Some(res), Ok(status)) = (from_script, use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status)) {
        res.set_status(status);
    }
}
