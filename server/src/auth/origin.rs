use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::startup::AppState;

/// Refuses state-changing requests that a browser made on behalf of another site (CSRF defence in
/// depth beside SameSite=Strict). Non-browser clients (curl, scripts) send neither `Origin` nor
/// `Sec-Fetch-Site` and pass; they authenticate with tokens, not cookies.
pub async fn refuse_cross_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(request.headers(), state.config.public_url.as_deref(), state.config.served_over_tls()) {
        let body = serde_json::json!({
            "code": "CROSS_ORIGIN_REFUSED",
            "message": "This request came from another site and was refused."
        });
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(request).await
}

fn same_origin(headers: &HeaderMap, public_url: Option<&str>, tls: bool) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header("origin") {
        if origin == "null" {
            return false;
        }
        let scheme = if tls { "https" } else { "http" };
        let own = header("host").map(|host| format!("{scheme}://{host}"));
        let public = public_url.map(|u| u.trim_end_matches('/'));
        return Some(origin) == own.as_deref() || Some(origin) == public;
    }
    !matches!(header("sec-fetch-site"), Some("cross-site") | Some("same-site"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        assert!(same_origin(&headers(&[("host", "a:1"), ("origin", "http://a:1")]), None, false));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "http://evil")]), None, false));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "http://a:1")]), None, true), "scheme matters");
        assert!(same_origin(&headers(&[("host", "internal:1"), ("origin", "https://b.io")]), Some("https://b.io/"), true));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "null")]), None, false));
        assert!(same_origin(&headers(&[]), None, false), "scripts send no Origin");
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), None, false));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), None, false));
    }
}
