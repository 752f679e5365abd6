use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lifeboat_domain::service::ServiceError;
use serde::Serialize;

/// `{"code", "message"}` with the right status. Unexpected causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

/// The error body, as the OpenAPI document describes it (`Body` borrows; this one is for the schema).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine code, e.g. `POLICY_EXISTS`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

/// The errors any endpoint may answer (SPEC §5): listed once, referenced by every operation.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the document, never built
pub enum ErrorResponses {
    /// Malformed request: invalid JSON, query or field values.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No or wrong credentials (HTTP Basic `email:api_token`).
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// An organization admin who does not administer the app concerned.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object in this organization (another organization's ids included).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The state does not allow it (busy app, existing policy...).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// A body over a size limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// A body that is not sent as `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Well-formed but cannot be carried out (wrong shape, unreachable storage).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// A rate limit; `Retry-After` says when to come back.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// `DATABASE_BUSY`: the database's writer stayed busy (a long restore) past the 10 s a request
    /// waits for it; that write was not made. `Retry-After` says when to come back.
    #[response(status = 503)]
    ServiceUnavailable(ErrorBody),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Authenticate with HTTP Basic: your email address and an API token.",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        if let ServiceError::Unexpected(cause) = &e {
            tracing::error!(%cause, "unexpected error in API request");
        }
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match &e {
            ServiceError::LimitExceeded { retry_after_secs, .. } | ServiceError::Unavailable { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        ApiError { status, code: e.code(), message: e.public_message(), retry_after }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(Body { code: self.code, message: &self.message })).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"Lifeboat\""));
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
