//! Request-rate limits of the REST API (issue: vendor's documented limits). The class of a request
//! comes from its method and route template; the key is the user for restores and the organization
//! in the path for everything else. Checked after authentication, so anonymous traffic cannot use
//! up an organization's allowance (it is refused with 401 first).

use std::sync::Mutex;
use std::time::Instant;

use axum::http::{Method, StatusCode};
use lifeboat_domain::rules::rate_limit::SlidingWindow;

use super::ApiError;
use crate::config::ApiLimitConfig;

/// What a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Create restore, revalidate: per user.
    Restore,
    /// Create storage, policy, export, import: per organization and operation.
    Create,
    PolicyUpdate,
    Read,
    OtherWrite,
}

impl Class {
    /// `route` is the matched template relative to `/api/v1` (`/orgs/{org_id}/storages`).
    pub fn of(method: &Method, route: &str) -> Class {
        let route = route.strip_prefix("/api/v1").unwrap_or(route);
        if method == Method::GET || method == Method::HEAD {
            return Class::Read;
        }
        let last = route.rsplit('/').next().unwrap_or_default();
        match (method.as_str(), last) {
            ("POST", "restores" | "revalidate") => Class::Restore,
            ("POST", "storages" | "policies" | "exports" | "imports") => Class::Create,
            ("PUT", "{policy_id}") if route.ends_with("/policies/{policy_id}") => Class::PolicyUpdate,
            _ => Class::OtherWrite,
        }
    }
}

pub struct ApiLimits {
    windows: [(Class, Mutex<SlidingWindow>); 5],
}

impl ApiLimits {
    pub fn new(c: &ApiLimitConfig) -> Self {
        let w = |limit| Mutex::new(SlidingWindow::new(limit, c.window));
        ApiLimits {
            windows: [
                (Class::Restore, w(c.restores_per_user)),
                (Class::Create, w(c.creates_per_org)),
                (Class::PolicyUpdate, w(c.policy_updates_per_org)),
                (Class::Read, w(c.reads_per_org)),
                (Class::OtherWrite, w(c.other_writes_per_org)),
            ],
        }
    }

    /// Counts the request, or refuses it with 429 `RATE_LIMITED` and how long to wait.
    pub fn check(&self, method: &Method, route: &str, org_id: Option<&str>, admin_id: &str) -> Result<(), ApiError> {
        let class = Class::of(method, route);
        let key = match (class, org_id) {
            (Class::Restore, _) | (_, None) => format!("user:{admin_id}"),
            (Class::Create, Some(org)) => format!("{org}:{route}"),
            (_, Some(org)) => org.to_owned(),
        };
        let Some((_, window)) = self.windows.iter().find(|(c, _)| *c == class) else { return Ok(()) };
        let mut window = window.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if let Some(wait) = window.blocked(&key, now) {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many requests of this kind; try again in {secs} s"),
            );
            e.retry_after = Some(secs);
            return Err(e);
        }
        window.record(&key, now);
        Ok(())
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_vendor_table() {
        let post = Method::POST;
        assert_eq!(Class::of(&post, "/api/v1/orgs/{org_id}/cloud/{cloud_id}/restores"), Class::Restore);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/cloud/{cloud_id}/restores/revalidate"), Class::Restore);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/storages"), Class::Create);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/cloud/{cloud_id}/policies"), Class::Create);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/exports"), Class::Create);
        assert_eq!(Class::of(&Method::PUT, "/orgs/{org_id}/policies/{policy_id}"), Class::PolicyUpdate);
        assert_eq!(Class::of(&Method::GET, "/orgs/{org_id}/policies/{policy_id}"), Class::Read);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/storages/regions"), Class::OtherWrite);
        assert_eq!(Class::of(&post, "/orgs/{org_id}/backups"), Class::OtherWrite);
    }

    #[test]
    fn the_sixth_restore_in_a_minute_waits_and_other_users_do_not() {
        let limits = ApiLimits::new(&ApiLimitConfig::default());
        let route = "/orgs/{org_id}/cloud/{cloud_id}/restores";
        for _ in 0..5 {
            limits.check(&Method::POST, route, Some("o1"), "alice").unwrap();
        }
        let refused = limits.check(&Method::POST, route, Some("o1"), "alice").unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some_and(|s| (1..=60).contains(&s)));
        limits.check(&Method::POST, route, Some("o1"), "bob").unwrap();
    }
}
