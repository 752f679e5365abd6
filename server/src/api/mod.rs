//! The JSON REST API under `/api/v1` (SPEC §5). Handlers are thin: authenticate, parse, call one
//! domain service, map the result.

mod auth;
mod error;
mod orgs;

use axum::routing::get;
use axum::Router;

pub use auth::ApiAdmin;
pub use error::ApiError;

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(orgs::list_orgs))
        .route("/orgs/{org_id}", get(orgs::get_org))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such API endpoint") })
}
