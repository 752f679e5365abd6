//! The error type that crosses the wire from server functions to the dashboard.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
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
    type Encoder = server_fn_error::JsonEncoding;

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
        AppError::new(e.code(), e.public_message())
    }
}
