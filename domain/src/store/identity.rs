//! Queries for organizations, admins, rights and API tokens.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{new_id, Db, StoreError};
use crate::model::{ApiTokenInfo, Org, Product};

#[derive(Debug, Clone)]
pub struct AdminRow {
    pub admin_id: String,
    pub email: String,
    pub password_hash: String,
}

pub async fn find_org_by_name(db: &Db, name: &str) -> Result<Option<Org>, StoreError> {
    let row = sqlx::query("SELECT org_id, name FROM organizations WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| Org { org_id: r.get("org_id"), name: r.get("name") }))
}

pub async fn insert_org(db: &Db, name: &str) -> Result<Org, StoreError> {
    let org = Org { org_id: new_id(), name: name.to_owned() };
    sqlx::query("INSERT INTO organizations (org_id, name, created_at) VALUES (?, ?, ?)")
        .bind(&org.org_id)
        .bind(&org.name)
        .bind(Utc::now())
        .execute(db)
        .await?;
    Ok(org)
}

pub async fn find_admin_by_email(db: &Db, email: &str) -> Result<Option<AdminRow>, StoreError> {
    let row = sqlx::query("SELECT admin_id, email, password_hash FROM admins WHERE email = ?")
        .bind(email)
        .fetch_optional(db)
        .await?;
    Ok(row.map(admin_row))
}

pub async fn find_admin_by_id(db: &Db, admin_id: &str) -> Result<Option<AdminRow>, StoreError> {
    let row = sqlx::query("SELECT admin_id, email, password_hash FROM admins WHERE admin_id = ?")
        .bind(admin_id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(admin_row))
}

fn admin_row(r: sqlx::sqlite::SqliteRow) -> AdminRow {
    AdminRow { admin_id: r.get("admin_id"), email: r.get("email"), password_hash: r.get("password_hash") }
}

pub async fn insert_admin(db: &Db, email: &str, password_hash: &str) -> Result<AdminRow, StoreError> {
    let admin = AdminRow { admin_id: new_id(), email: email.to_owned(), password_hash: password_hash.to_owned() };
    sqlx::query("INSERT INTO admins (admin_id, email, password_hash, created_at) VALUES (?, ?, ?, ?)")
        .bind(&admin.admin_id)
        .bind(&admin.email)
        .bind(&admin.password_hash)
        .bind(Utc::now())
        .execute(db)
        .await?;
    Ok(admin)
}

pub async fn update_password_hash(db: &Db, admin_id: &str, password_hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE admins SET password_hash = ? WHERE admin_id = ?")
        .bind(password_hash)
        .bind(admin_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn add_org_admin(db: &Db, org_id: &str, admin_id: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO org_admins (org_id, admin_id) VALUES (?, ?)")
        .bind(org_id)
        .bind(admin_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Grants app-admin rights; `None` for product or site means "all".
pub async fn add_app_admin(
    db: &Db,
    org_id: &str,
    admin_id: &str,
    cloud_id: Option<&str>,
    product: Option<Product>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO app_admins (org_id, admin_id, cloud_id, product) VALUES (?, ?, ?, ?)")
        .bind(org_id)
        .bind(admin_id)
        .bind(cloud_id)
        .bind(product.map(Product::as_str))
        .execute(db)
        .await?;
    Ok(())
}

pub async fn orgs_of_admin(db: &Db, admin_id: &str) -> Result<Vec<Org>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.org_id, o.name FROM organizations o JOIN org_admins a ON a.org_id = o.org_id
         WHERE a.admin_id = ? ORDER BY o.name",
    )
    .bind(admin_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| Org { org_id: r.get("org_id"), name: r.get("name") }).collect())
}

pub async fn is_org_admin(db: &Db, org_id: &str, admin_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM org_admins WHERE org_id = ? AND admin_id = ?")
        .bind(org_id)
        .bind(admin_id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

/// True when the admin holds app-admin rights on `product` of site `cloud_id` in `org_id`.
pub async fn is_app_admin(
    db: &Db,
    org_id: &str,
    admin_id: &str,
    cloud_id: &str,
    product: Product,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT 1 FROM app_admins WHERE org_id = ? AND admin_id = ?
         AND (cloud_id IS NULL OR cloud_id = ?) AND (product IS NULL OR product = ?)",
    )
    .bind(org_id)
    .bind(admin_id)
    .bind(cloud_id)
    .bind(product.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// An admin's app-admin rights in an organization: `(site, product)`, `None` meaning every one.
/// The same rule as `is_app_admin`, for filtering many items with one query.
pub struct AppAdminScopes(Vec<(Option<String>, Option<String>)>);

impl AppAdminScopes {
    pub fn covers(&self, cloud_id: &str, product: Product) -> bool {
        self.0.iter().any(|(cloud, prod)| {
            cloud.as_deref().is_none_or(|c| c == cloud_id) && prod.as_deref().is_none_or(|p| p == product.as_str())
        })
    }

    /// Rights on every app of the organization, present and future: on any site, for every product.
    pub fn covers_every_app(&self) -> bool {
        Product::ALL.iter().all(|p| self.0.iter().any(|(cloud, prod)| cloud.is_none() && prod.as_deref().is_none_or(|x| x == p.as_str())))
    }
}

/// SQL: the row aliased `row` (with `org_id`, `cloud_id`, `product` columns) belongs to an app the
/// admin bound at `admin_param` administers — the rule of `is_app_admin`, for lists filtered in SQL.
pub fn administered_by(row: &str, admin_param: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM app_admins aa WHERE aa.org_id = {row}.org_id AND aa.admin_id = {admin_param}
           AND (aa.cloud_id IS NULL OR aa.cloud_id = {row}.cloud_id) AND (aa.product IS NULL OR aa.product = {row}.product))"
    )
}

pub async fn app_admin_scopes(db: &Db, org_id: &str, admin_id: &str) -> Result<AppAdminScopes, StoreError> {
    let rows: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT cloud_id, product FROM app_admins WHERE org_id = ? AND admin_id = ?")
            .bind(org_id)
            .bind(admin_id)
            .fetch_all(db)
            .await?;
    Ok(AppAdminScopes(rows))
}

/// A new dashboard sign-in of `admin_id` (migration 0009); its id goes into the session.
pub async fn insert_sign_in(db: &Db, admin_id: &str) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query("INSERT INTO dashboard_sign_ins (sign_in_id, admin_id, signed_in_at) VALUES (?, ?, ?)")
        .bind(&id)
        .bind(admin_id)
        .bind(Utc::now())
        .execute(db)
        .await?;
    Ok(id)
}

/// Whether this admin's sign-in was made at or after `cutoff`; None when there is no such sign-in.
pub async fn sign_in_is_recent(db: &Db, sign_in_id: &str, admin_id: &str, cutoff: DateTime<Utc>) -> Result<Option<bool>, StoreError> {
    Ok(sqlx::query_scalar("SELECT signed_in_at >= ? FROM dashboard_sign_ins WHERE sign_in_id = ? AND admin_id = ?")
        .bind(cutoff)
        .bind(sign_in_id)
        .bind(admin_id)
        .fetch_optional(db)
        .await?)
}

pub async fn delete_sign_in(db: &Db, sign_in_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM dashboard_sign_ins WHERE sign_in_id = ?").bind(sign_in_id).execute(db).await?;
    Ok(())
}

/// Every dashboard sign-in of the admin (a new password signs them out everywhere).
pub async fn delete_sign_ins_of_admin(db: &Db, admin_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM dashboard_sign_ins WHERE admin_id = ?").bind(admin_id).execute(db).await?;
    Ok(())
}

/// Deletes the sign-ins made before `cutoff`; returns how many. `signed_in_at` is sqlx's RFC 3339
/// text, always in UTC with `+00:00`, and 0, 3, 6 or 9 fraction digits: `+` sorts before `.` and
/// both before the digits, so text order is time order.
pub async fn delete_sign_ins_before(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM dashboard_sign_ins WHERE signed_in_at < ?").bind(cutoff).execute(db).await?;
    Ok(done.rows_affected())
}

pub async fn insert_token(db: &Db, admin_id: &str, name: &str, token_hash: &str) -> Result<ApiTokenInfo, StoreError> {
    let info = ApiTokenInfo {
        token_id: new_id(),
        name: name.to_owned(),
        created_at: Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (token_id, admin_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&info.token_id)
    .bind(admin_id)
    .bind(&info.name)
    .bind(token_hash)
    .bind(info.created_at)
    .execute(db)
    .await?;
    Ok(info)
}

/// The admin owning a live (not revoked) token with this hash; records the use.
pub async fn use_token(db: &Db, email: &str, token_hash: &str) -> Result<Option<AdminRow>, StoreError> {
    let row = sqlx::query(
        "SELECT a.admin_id, a.email, a.password_hash, t.token_id, t.last_used_at FROM api_tokens t
         JOIN admins a ON a.admin_id = t.admin_id
         WHERE t.token_hash = ? AND a.email = ? AND t.revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(email)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token_id: String = row.get("token_id");
    let last_used: Option<DateTime<Utc>> = row.get("last_used_at");
    let now = Utc::now();
    // Recorded in the background: a request must not wait for the write lock (a restore holds it
    // while it commits its one transaction), and a missed "last used" time is harmless. At most once
    // a minute per token, and never two pending at once: each pending update holds a pooled
    // connection while it waits, and a fast client would otherwise take every one of them.
    if last_used.is_none_or(|t| now - t > chrono::Duration::seconds(60)) && PENDING_TOKEN_UPDATES.start(&token_id) {
        let db = db.clone();
        tokio::spawn(async move {
            let _ = sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?").bind(now).bind(&token_id).execute(&db).await;
            PENDING_TOKEN_UPDATES.finish(&token_id);
        });
    }
    Ok(Some(admin_row(row)))
}

/// Tokens whose "last used" update is in flight.
struct Pending(std::sync::Mutex<std::collections::HashSet<String>>);

static PENDING_TOKEN_UPDATES: std::sync::LazyLock<Pending> = std::sync::LazyLock::new(|| Pending(Default::default()));

impl Pending {
    /// True when this call may start the update (none is pending for the token).
    fn start(&self, id: &str) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_owned())
    }

    fn finish(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

pub async fn tokens_of_admin(db: &Db, admin_id: &str) -> Result<Vec<ApiTokenInfo>, StoreError> {
    let rows = sqlx::query(
        "SELECT token_id, name, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE admin_id = ? ORDER BY created_at",
    )
    .bind(admin_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiTokenInfo {
            token_id: r.get("token_id"),
            name: r.get("name"),
            created_at: r.get::<DateTime<Utc>, _>("created_at"),
            last_used_at: r.get("last_used_at"),
            revoked_at: r.get("revoked_at"),
        })
        .collect())
}

/// Revokes the admin's token; false when no such live token exists.
pub async fn revoke_token(db: &Db, admin_id: &str, token_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = ? WHERE admin_id = ? AND token_id = ? AND revoked_at IS NULL",
    )
    .bind(Utc::now())
    .bind(admin_id)
    .bind(token_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_means_every_site_and_every_product() {
        let scopes = |rows: &[(Option<&str>, Option<&str>)]| {
            AppAdminScopes(rows.iter().map(|(c, p)| (c.map(str::to_owned), p.map(str::to_owned))).collect())
        };
        assert!(scopes(&[(None, None)]).covers_every_app());
        assert!(scopes(&[(None, Some("JIRA")), (None, Some("CONFLUENCE"))]).covers_every_app());
        assert!(!scopes(&[(None, Some("JIRA"))]).covers_every_app());
        assert!(!scopes(&[(Some("site-1"), None)]).covers_every_app(), "one site is not every site");
        assert!(!scopes(&[]).covers_every_app());
    }
}
