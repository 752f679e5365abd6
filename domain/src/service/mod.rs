//! Use cases: one entry point per action, called by server functions, REST handlers and the CLI.

pub mod audit;
pub mod backup;
pub mod content;
pub mod digest;
pub mod identity;
pub mod platform;
pub mod restore;
pub mod seed;

use crate::store::Db;

/// What every use case needs: handed to server functions, REST handlers and jobs alike.
#[derive(Clone)]
pub struct Backend {
    pub db: Db,
    /// Attachment bytes, content-addressed (`<data_dir>/blobs`).
    pub blobs: crate::blobs::BlobStore,
    /// Storages, the server key, settings and running jobs of the backup engine.
    pub backup: std::sync::Arc<backup::BackupEnv>,
}

use crate::store::StoreError;

/// The service layer's error. Every variant carries a stable machine `code`; the edges map the
/// variant to an HTTP status and never show an `Unexpected` cause to the client.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Well-formed but cannot be carried out (an unreachable storage, an archive that fails checks): 422.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A request body over a size limit (HTTP 413).
    #[error("{message}")]
    PayloadTooLarge { code: &'static str, message: String },
    #[error("{message}")]
    LimitExceeded { code: &'static str, message: String, retry_after_secs: u64 },
    /// The server cannot take the request now, and nothing was done: 503 with `Retry-After`.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String, retry_after_secs: u64 },
    #[error("unexpected error: {0}")]
    Unexpected(String),
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Validation { code, .. }
            | ServiceError::Unauthenticated { code, .. }
            | ServiceError::Forbidden { code, .. }
            | ServiceError::NotFound { code, .. }
            | ServiceError::Conflict { code, .. }
            | ServiceError::Unprocessable { code, .. }
            | ServiceError::PayloadTooLarge { code, .. }
            | ServiceError::LimitExceeded { code, .. }
            | ServiceError::Unavailable { code, .. } => code,
            ServiceError::Unexpected(_) => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status this error answers with, on the REST API and from the dashboard's server
    /// functions alike.
    pub fn http_status(&self) -> u16 {
        match self {
            ServiceError::Validation { .. } => 400,
            ServiceError::Unauthenticated { .. } => 401,
            ServiceError::Forbidden { .. } => 403,
            ServiceError::NotFound { .. } => 404,
            ServiceError::Conflict { .. } => 409,
            ServiceError::PayloadTooLarge { .. } => 413,
            ServiceError::Unprocessable { .. } => 422,
            ServiceError::LimitExceeded { .. } => 429,
            ServiceError::Unexpected(_) => 500,
            ServiceError::Unavailable { .. } => 503,
        }
    }

    /// The message safe to show a client (never an internal cause).
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Unexpected(_) => "An unexpected error occurred; it has been logged.".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn validation(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Validation { code, message: message.into() }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::NotFound { code, message: message.into() }
    }

    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::PayloadTooLarge { code, message: message.into() }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Unprocessable { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Conflict { code, message: message.into() }
    }

    /// 503 `DATABASE_BUSY`: a write could not get SQLite's only writer in time.
    pub fn database_busy(retry_after_secs: u64) -> Self {
        ServiceError::Unavailable {
            code: "DATABASE_BUSY",
            message: "The database is busy with a long write, such as a restore. Try again in a moment.".to_owned(),
            retry_after_secs,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        if e.is_busy() {
            // Expected while a long restore holds SQLite's writer (docs/restores.md): the client is
            // told to come back, and the log says why without an error's alarm.
            tracing::warn!(error = %e, "database busy: request refused with 503");
            // The request has already waited `BUSY_TIMEOUT` for the writer: the write holding it
            // is a long one, so come back no sooner than that.
            return ServiceError::database_busy(crate::store::BUSY_TIMEOUT.as_secs());
        }
        tracing::error!(error = %e, "store error");
        ServiceError::Unexpected(e.to_string())
    }
}
