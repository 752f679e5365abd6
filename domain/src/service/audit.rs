//! The audit log (SPEC §2): every state-changing use case records who asked, what, on which
//! object, and how it ended — success or the error code the caller saw. Recording happens here, in
//! the service layer, so the dashboard, the REST API and the CLI are covered by the same call.

use super::identity::require_org_admin;
use super::ServiceError;
use crate::model::{AuditEntry, AuditFilter, AuditOutcome, Paged};
use crate::rules::paging;
use crate::store::{audit as q, Db};

/// An action about to be carried out. `record` writes the entry with the action's result and hands
/// the result back unchanged, so a use case reads `event.record(db, result, |x| id).await`.
pub struct AuditEvent<'a> {
    actor_id: &'a str,
    org_id: &'a str,
    action: &'static str,
    target: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(actor_id: &'a str, org_id: &'a str, action: &'static str) -> Self {
        AuditEvent { actor_id, org_id, action, target: None }
    }

    /// The object named by the request (a policy id, a site name); a success may name the object
    /// it created instead.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(bounded(target.into()));
        self
    }

    /// Writes the entry and returns `result`. A failure to write is logged, not returned: the action
    /// itself has already happened (or failed) and its caller must learn that outcome.
    pub async fn record<T>(
        self,
        db: &Db,
        result: Result<T, ServiceError>,
        created: impl FnOnce(&T) -> Option<String>,
    ) -> Result<T, ServiceError> {
        let (outcome, target, code, message) = match &result {
            Ok(value) => (AuditOutcome::Success, created(value).map(bounded).or(self.target), None, None),
            Err(e) => (AuditOutcome::Failure, self.target, Some(e.code()), Some(bounded(e.public_message()))),
        };
        if let Err(e @ ServiceError::Unavailable { .. }) = &result {
            // Refused because the database could not take a write: the entry could not be written
            // either (it would wait as long again), so the refusal goes to the server's log.
            tracing::warn!(action = self.action, actor_id = %self.actor_id, code = e.code(), "audit entry not written: the database is busy");
            return result;
        }
        let entry = q::NewEntry {
            org_id: self.org_id,
            actor_id: self.actor_id,
            action: self.action,
            target: target.as_deref(),
            outcome,
            code,
            message: message.as_deref(),
        };
        if let Err(e) = q::append(db, entry).await {
            tracing::error!(error = %e, action = self.action, "could not write the audit log");
        }
        result
    }
}

/// Targets and messages come from requests: keep an entry small whatever a client sends.
fn bounded(s: String) -> String {
    if s.chars().count() <= 200 {
        s
    } else {
        s.chars().take(200).collect::<String>() + "…"
    }
}

/// `GET /orgs/{orgId}/audit`, newest first. The log covers every app of the organization (grants,
/// restores, keys of restored content), so it needs admin rights on every app, not just org admin.
pub async fn list_audit(db: &Db, admin_id: &str, org_id: &str, filter: AuditFilter) -> Result<Paged<AuditEntry>, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    if !crate::store::identity::app_admin_scopes(db, org_id, admin_id).await?.covers_every_app() {
        return Err(ServiceError::Forbidden {
            code: "NOT_APP_ADMIN",
            message: "the audit log covers every app of the organization: it needs admin rights on all of them".into(),
        });
    }
    let limit = paging::clamp_limit(filter.limit);
    let offset = paging::clamp_offset(filter.offset);
    let (items, total) = q::list(db, org_id, &filter, limit, offset).await?;
    let next_offset = paging::next_offset(offset, items.len(), total);
    Ok(Paged { items, total, offset, limit, next_offset })
}
