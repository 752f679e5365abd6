use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use lifeboat_domain::model::SignedInAdmin;
use lifeboat_domain::service::{identity, ServiceError};

use super::ApiError;
use crate::startup::AppState;

/// The admin authenticated by HTTP Basic `email:api_token`; every `/api/v1` handler takes one.
/// Taking one also counts the request against the API's rate limits (`rate_limit.rs`).
pub struct ApiAdmin(pub SignedInAdmin);

impl FromRequestParts<AppState> for ApiAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (email, token) = basic_credentials(parts).ok_or_else(ApiError::unauthorized)?;
        let admin = match identity::authenticate_token(&state.backend.db, &email, &token).await {
            Ok(admin) => admin,
            Err(ServiceError::Unauthenticated { .. }) => return Err(ApiError::unauthorized()),
            Err(e) => return Err(e.into()),
        };
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        // Only an organization the caller administers is charged: requests naming any other org
        // (which answer 404) count against the caller alone, so nobody can use up another org's
        // allowance, nor grow the limiter's table with made-up org ids.
        let org_id = params
            .as_ref()
            .and_then(|p| p.iter().find(|(k, _)| *k == "org_id").map(|(_, v)| v.to_owned()))
            .filter(|org| admin.orgs.iter().any(|o| o.org_id == *org));
        state.api_limits.check(&parts.method, &route, org_id.as_deref(), &admin.admin_id)?;
        Ok(ApiAdmin(admin))
    }
}

fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1024 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (email, token) = decoded.split_once(':')?;
    Some((email.to_owned(), token.to_owned()))
}
