//! The audit log: append and read (migration 0006). Times are Unix milliseconds.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::backup::{from_ms, ms, now_ms};
use super::{new_id, parse_col, Db, StoreError};
use crate::model::{AuditEntry, AuditFilter, AuditOutcome};

pub struct NewEntry<'a> {
    pub org_id: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub outcome: AuditOutcome,
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Appends an entry when the organization exists (an attempt on an unknown organization id has no
/// log to go to). The actor's email is copied from `admins` so the entry outlives the account.
pub async fn append(db: &Db, e: NewEntry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (entry_id, org_id, actor_id, actor_email, action, target, outcome, code, message, at)
         SELECT ?, o.org_id, ?, COALESCE((SELECT email FROM admins WHERE admin_id = ?), ''), ?, ?, ?, ?, ?, ?
         FROM organizations o WHERE o.org_id = ?",
    )
    .bind(new_id())
    .bind(e.actor_id)
    .bind(e.actor_id)
    .bind(e.action)
    .bind(e.target)
    .bind(e.outcome.as_str())
    .bind(e.code)
    .bind(e.message)
    .bind(ms(now_ms()))
    .bind(e.org_id)
    .execute(db)
    .await?;
    Ok(())
}

/// One page of an organization's entries, newest first, and the total that match.
pub async fn list(db: &Db, org_id: &str, f: &AuditFilter, limit: u32, offset: u64) -> Result<(Vec<AuditEntry>, u64), StoreError> {
    let filtered = |select: &str| {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(select);
        q.push(" FROM audit_log WHERE org_id = ").push_bind(org_id.to_owned());
        if let Some(actor) = f.actor.as_deref().filter(|a| !a.is_empty()) {
            q.push(" AND (actor_email = ").push_bind(actor.to_lowercase()).push(" OR actor_id = ").push_bind(actor.to_owned()).push(")");
        }
        if let Some(action) = f.action.as_deref().filter(|a| !a.is_empty()) {
            if let Some(prefix) = action.strip_suffix('.') {
                // A family of actions: `policy.` matches policy.create and policy.update. The
                // prefix is compared with substr, not LIKE, so `%` and `_` in it mean themselves.
                let prefix = format!("{prefix}.");
                q.push(" AND substr(action, 1, ").push_bind(prefix.chars().count() as i64).push(") = ").push_bind(prefix);
            } else {
                q.push(" AND action = ").push_bind(action.to_owned());
            }
        }
        if let Some(since) = f.since {
            q.push(" AND at >= ").push_bind(ms(since));
        }
        q
    };
    let total: i64 = filtered("SELECT COUNT(*)").build_query_scalar().fetch_one(db).await?;
    let mut q = filtered("SELECT *");
    q.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset as i64);
    let rows = q.build().fetch_all(db).await?;
    let entries = rows.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
    Ok((entries, total.max(0) as u64))
}

fn entry(r: &SqliteRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        entry_id: r.get("entry_id"),
        org_id: r.get("org_id"),
        actor_id: r.get("actor_id"),
        actor_email: r.get("actor_email"),
        action: r.get("action"),
        target: r.get("target"),
        outcome: parse_col(AuditOutcome::parse(r.get("outcome")), "outcome")?,
        code: r.get("code"),
        message: r.get("message"),
        at: from_ms(r.get("at")),
    })
}
