//! Queries for sites, apps and the organization's directory (users, groups, memberships, app access).
//! Functions take any executor, so a use case can run several of them in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::Row;

use super::{new_id, parse_col, StoreError};
use crate::model::{AccessGrant, AccessState, App, AppState, Plan, Product, Role, User};

#[derive(Debug, Clone)]
pub struct SiteRow {
    pub cloud_id: String,
    pub org_id: String,
    pub name: String,
    pub plan: Plan,
    pub shard: String,
    pub free_trial: bool,
    pub created_at: DateTime<Utc>,
}

fn site_row(r: SqliteRow) -> Result<SiteRow, StoreError> {
    Ok(SiteRow {
        cloud_id: r.get("cloud_id"),
        org_id: r.get("org_id"),
        name: r.get("name"),
        plan: parse_col(Plan::parse(r.get("plan")), "sites.plan")?,
        shard: r.get("shard"),
        free_trial: r.get("free_trial"),
        created_at: r.get("created_at"),
    })
}

const SITE_COLUMNS: &str = "cloud_id, org_id, name, plan, shard, free_trial, created_at";

pub async fn insert_site<'e>(ex: impl SqliteExecutor<'e>, site: &SiteRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sites (cloud_id, org_id, name, plan, shard, free_trial, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&site.cloud_id)
    .bind(&site.org_id)
    .bind(&site.name)
    .bind(site.plan.as_str())
    .bind(&site.shard)
    .bind(site.free_trial)
    .bind(site.created_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// The site, only if it belongs to `org_id` (another org's site is "not found").
pub async fn find_site<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    cloud_id: &str,
) -> Result<Option<SiteRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE org_id = ? AND cloud_id = ?"))
        .bind(org_id)
        .bind(cloud_id)
        .fetch_optional(ex)
        .await?;
    row.map(site_row).transpose()
}

pub async fn find_site_by_name<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    name: &str,
) -> Result<Option<SiteRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE org_id = ? AND name = ?"))
        .bind(org_id)
        .bind(name)
        .fetch_optional(ex)
        .await?;
    row.map(site_row).transpose()
}

pub async fn list_sites<'e>(ex: impl SqliteExecutor<'e>, org_id: &str) -> Result<Vec<SiteRow>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE org_id = ? ORDER BY name"))
        .bind(org_id)
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(site_row).collect()
}

#[derive(Debug, Clone)]
pub struct AppRow {
    pub cloud_id: String,
    pub product: Product,
    pub state: AppState,
    pub plan: Plan,
    pub shard: String,
    pub deactivated_at: Option<DateTime<Utc>>,
}

fn app_row(r: SqliteRow) -> Result<AppRow, StoreError> {
    Ok(AppRow {
        cloud_id: r.get("cloud_id"),
        product: parse_col(Product::parse(r.get("product")), "apps.product")?,
        state: parse_col(AppState::parse(r.get("state")), "apps.state")?,
        plan: parse_col(Plan::parse(r.get("plan")), "apps.plan")?,
        shard: r.get("shard"),
        deactivated_at: r.get("deactivated_at"),
    })
}

impl AppRow {
    pub fn into_app(self, contains_data: bool, counts: BTreeMap<String, u64>) -> App {
        App {
            cloud_id: self.cloud_id,
            product: self.product,
            state: self.state,
            contains_data,
            shard: self.shard,
            plan: self.plan,
            busy: false,
            counts,
            deactivated_at: self.deactivated_at,
        }
    }
}

pub async fn insert_app<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
    plan: Plan,
    shard: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO apps (cloud_id, product, state, plan, shard, created_at) VALUES (?, ?, 'ACTIVE', ?, ?, ?)",
    )
    .bind(cloud_id)
    .bind(product.as_str())
    .bind(plan.as_str())
    .bind(shard)
    .bind(Utc::now())
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn list_apps<'e>(ex: impl SqliteExecutor<'e>, cloud_id: &str) -> Result<Vec<AppRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT cloud_id, product, state, plan, shard, deactivated_at FROM apps WHERE cloud_id = ? ORDER BY product",
    )
    .bind(cloud_id)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(app_row).collect()
}

pub async fn find_app<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
) -> Result<Option<AppRow>, StoreError> {
    let row = sqlx::query(
        "SELECT cloud_id, product, state, plan, shard, deactivated_at FROM apps WHERE cloud_id = ? AND product = ?",
    )
    .bind(cloud_id)
    .bind(product.as_str())
    .fetch_optional(ex)
    .await?;
    row.map(app_row).transpose()
}

/// Moves an app to another shard (a restore from a backup taken on another shard does this first).
pub async fn set_app_shard<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
    shard: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE apps SET shard = ? WHERE cloud_id = ? AND product = ?")
        .bind(shard)
        .bind(cloud_id)
        .bind(product.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// Entity counts of an app's content by kind (the names used by `App::counts` and the digest).
pub async fn app_counts<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let sql = match product {
        Product::Jira => {
            "SELECT
               (SELECT COUNT(*) FROM jira_projects WHERE cloud_id = ?1) AS a,
               (SELECT COUNT(*) FROM jira_issues i JOIN jira_projects p ON p.project_id = i.project_id
                 WHERE p.cloud_id = ?1) AS b,
               (SELECT COUNT(*) FROM jira_comments c JOIN jira_issues i ON i.issue_id = c.issue_id
                 JOIN jira_projects p ON p.project_id = i.project_id WHERE p.cloud_id = ?1) AS c,
               (SELECT COUNT(*) FROM attachments WHERE cloud_id = ?1 AND product = 'JIRA') AS d"
        }
        Product::Confluence => {
            "SELECT
               (SELECT COUNT(*) FROM confluence_spaces WHERE cloud_id = ?1) AS a,
               (SELECT COUNT(*) FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id
                 WHERE s.cloud_id = ?1) AS b,
               (SELECT COUNT(*) FROM confluence_comments c JOIN confluence_pages g ON g.page_id = c.page_id
                 JOIN confluence_spaces s ON s.space_id = g.space_id WHERE s.cloud_id = ?1) AS c,
               (SELECT COUNT(*) FROM attachments WHERE cloud_id = ?1 AND product = 'CONFLUENCE') AS d"
        }
    };
    let row = sqlx::query(sql).bind(cloud_id).fetch_one(ex).await?;
    let kinds = count_kinds(product);
    Ok(["a", "b", "c", "d"]
        .iter()
        .zip(kinds)
        .map(|(col, kind)| ((*kind).to_owned(), row.get::<i64, _>(*col) as u64))
        .collect())
}

/// The entity kinds counted for a product, in the order their content appears in the digest.
pub fn count_kinds(product: Product) -> &'static [&'static str; 4] {
    match product {
        Product::Jira => &["projects", "issues", "comments", "attachments"],
        Product::Confluence => &["spaces", "pages", "comments", "attachments"],
    }
}

/// Jira: any project. Confluence: any space but the one made with the app, or any page in that one.
pub async fn app_contains_data<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
) -> Result<bool, StoreError> {
    let sql = match product {
        Product::Jira => "SELECT EXISTS (SELECT 1 FROM jira_projects WHERE cloud_id = ?1)",
        Product::Confluence => {
            "SELECT EXISTS (SELECT 1 FROM confluence_spaces WHERE cloud_id = ?1 AND created_with_app = 0)
                 OR EXISTS (SELECT 1 FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id
                            WHERE s.cloud_id = ?1)"
        }
    };
    let row = sqlx::query(sql).bind(cloud_id).fetch_one(ex).await?;
    Ok(row.get::<bool, _>(0))
}

// ---- users ----

fn user_row(r: SqliteRow) -> User {
    User {
        account_id: r.get("account_id"),
        email: r.get("email"),
        display_name: r.get("display_name"),
        active: r.get("active"),
    }
}

pub async fn insert_user<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    email: &str,
    display_name: &str,
) -> Result<User, StoreError> {
    let user =
        User { account_id: new_id(), email: email.to_owned(), display_name: display_name.to_owned(), active: true };
    sqlx::query(
        "INSERT INTO users (account_id, org_id, email, display_name, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
    )
    .bind(&user.account_id)
    .bind(org_id)
    .bind(&user.email)
    .bind(&user.display_name)
    .bind(Utc::now())
    .execute(ex)
    .await?;
    Ok(user)
}

pub async fn find_user_by_email<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let row = sqlx::query("SELECT account_id, email, display_name, active FROM users WHERE org_id = ? AND email = ?")
        .bind(org_id)
        .bind(email)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(user_row))
}

/// Finds the user with this (normalised) email, creating them when missing.
pub async fn ensure_user(
    conn: &mut sqlx::SqliteConnection,
    org_id: &str,
    email: &str,
    display_name: &str,
) -> Result<User, StoreError> {
    if let Some(u) = find_user_by_email(&mut *conn, org_id, email).await? {
        return Ok(u);
    }
    insert_user(&mut *conn, org_id, email, display_name).await
}

pub async fn list_users<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<User>, StoreError> {
    let rows = sqlx::query(
        "SELECT account_id, email, display_name, active FROM users WHERE org_id = ? ORDER BY email LIMIT ? OFFSET ?",
    )
    .bind(org_id)
    .bind(i64::from(limit))
    .bind(offset as i64)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(user_row).collect())
}

pub async fn count_users<'e>(ex: impl SqliteExecutor<'e>, org_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = ?").bind(org_id).fetch_one(ex).await?;
    Ok(n as u64)
}

// ---- groups ----

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub group_id: String,
    pub name: String,
    pub custom: bool,
}

pub async fn find_group_by_name<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    name: &str,
) -> Result<Option<GroupRow>, StoreError> {
    let row = sqlx::query("SELECT group_id, name, custom FROM groups WHERE org_id = ? AND name = ?")
        .bind(org_id)
        .bind(name)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| GroupRow { group_id: r.get("group_id"), name: r.get("name"), custom: r.get("custom") }))
}

pub async fn insert_group<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    name: &str,
    custom: bool,
) -> Result<GroupRow, StoreError> {
    let group = GroupRow { group_id: new_id(), name: name.to_owned(), custom };
    sqlx::query("INSERT INTO groups (group_id, org_id, name, custom, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&group.group_id)
        .bind(org_id)
        .bind(&group.name)
        .bind(custom)
        .bind(Utc::now())
        .execute(ex)
        .await?;
    Ok(group)
}

/// Finds the group by name, creating it (with `custom`) when missing.
pub async fn ensure_group(
    conn: &mut sqlx::SqliteConnection,
    org_id: &str,
    name: &str,
    custom: bool,
) -> Result<GroupRow, StoreError> {
    if let Some(g) = find_group_by_name(&mut *conn, org_id, name).await? {
        return Ok(g);
    }
    insert_group(&mut *conn, org_id, name, custom).await
}

pub async fn add_member<'e>(ex: impl SqliteExecutor<'e>, group_id: &str, account_id: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO group_members (group_id, account_id) VALUES (?, ?)")
        .bind(group_id)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn list_groups<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<GroupRow>, StoreError> {
    let rows = sqlx::query("SELECT group_id, name, custom FROM groups WHERE org_id = ? ORDER BY name LIMIT ? OFFSET ?")
        .bind(org_id)
        .bind(i64::from(limit))
        .bind(offset as i64)
        .fetch_all(ex)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| GroupRow { group_id: r.get("group_id"), name: r.get("name"), custom: r.get("custom") })
        .collect())
}

pub async fn count_groups<'e>(ex: impl SqliteExecutor<'e>, org_id: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM groups WHERE org_id = ?").bind(org_id).fetch_one(ex).await?;
    Ok(n as u64)
}

/// Members' emails of a group, sorted.
pub async fn group_member_emails<'e>(ex: impl SqliteExecutor<'e>, group_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT u.email FROM group_members m JOIN users u ON u.account_id = m.account_id
         WHERE m.group_id = ? ORDER BY u.email",
    )
    .bind(group_id)
    .fetch_all(ex)
    .await?)
}

// ---- app access ----

const GRANT_SELECT: &str =
    "SELECT a.access_id, g.name AS group_name, a.group_id, a.cloud_id, a.product, a.role, a.state
     FROM app_access a JOIN groups g ON g.group_id = a.group_id";

fn grant_row(r: SqliteRow) -> Result<AccessGrant, StoreError> {
    Ok(AccessGrant {
        access_id: r.get("access_id"),
        group: r.get("group_name"),
        group_id: r.get("group_id"),
        cloud_id: r.get("cloud_id"),
        product: parse_col(Product::parse(r.get("product")), "app_access.product")?,
        role: parse_col(Role::parse(r.get("role")), "app_access.role")?,
        state: parse_col(AccessState::parse(r.get("state")), "app_access.state")?,
    })
}

/// Creates the grant or sets the state of the existing one (a group has each role on an app once).
pub async fn upsert_grant(
    conn: &mut sqlx::SqliteConnection,
    group_id: &str,
    cloud_id: &str,
    product: Product,
    role: Role,
    state: AccessState,
) -> Result<AccessGrant, StoreError> {
    write_grant(conn, group_id, cloud_id, product, role, state, "").await
}

/// A restored grant waiting for review: inserted PENDING_REVIEW, or a DENIED one asked again; an
/// ACTIVE grant of the same group, app and role stays ACTIVE (a restore never takes access away).
pub async fn request_grant_review(
    conn: &mut sqlx::SqliteConnection,
    group_id: &str,
    cloud_id: &str,
    product: Product,
    role: Role,
) -> Result<AccessGrant, StoreError> {
    let keep_active = " WHERE app_access.state <> 'ACTIVE'";
    write_grant(conn, group_id, cloud_id, product, role, AccessState::PendingReview, keep_active).await
}

async fn write_grant(
    conn: &mut sqlx::SqliteConnection,
    group_id: &str,
    cloud_id: &str,
    product: Product,
    role: Role,
    state: AccessState,
    update_only_when: &'static str,
) -> Result<AccessGrant, StoreError> {
    sqlx::query(&format!(
        "INSERT INTO app_access (access_id, group_id, cloud_id, product, role, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (group_id, cloud_id, product, role) DO UPDATE SET state = excluded.state,
           decided_at = NULL, decided_by = NULL{update_only_when}"
    ))
    .bind(new_id())
    .bind(group_id)
    .bind(cloud_id)
    .bind(product.as_str())
    .bind(role.as_str())
    .bind(state.as_str())
    .bind(Utc::now())
    .execute(&mut *conn)
    .await?;
    find_grant_of(conn, group_id, cloud_id, product, role).await
}

async fn find_grant_of(
    conn: &mut sqlx::SqliteConnection,
    group_id: &str,
    cloud_id: &str,
    product: Product,
    role: Role,
) -> Result<AccessGrant, StoreError> {
    let row = sqlx::query(&format!(
        "{GRANT_SELECT} WHERE a.group_id = ? AND a.cloud_id = ? AND a.product = ? AND a.role = ?"
    ))
    .bind(group_id)
    .bind(cloud_id)
    .bind(product.as_str())
    .bind(role.as_str())
    .fetch_one(&mut *conn)
    .await?;
    grant_row(row)
}

/// Grants of an organization in the given state, oldest first.
pub async fn grants_in_state<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    state: AccessState,
) -> Result<Vec<AccessGrant>, StoreError> {
    let rows = sqlx::query(&format!("{GRANT_SELECT} WHERE g.org_id = ? AND a.state = ? ORDER BY a.created_at, g.name"))
        .bind(org_id)
        .bind(state.as_str())
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(grant_row).collect()
}

/// The grants on one app (every state).
pub async fn grants_of_app<'e>(
    ex: impl SqliteExecutor<'e>,
    cloud_id: &str,
    product: Product,
) -> Result<Vec<AccessGrant>, StoreError> {
    let rows = sqlx::query(&format!("{GRANT_SELECT} WHERE a.cloud_id = ? AND a.product = ? ORDER BY g.name, a.role"))
        .bind(cloud_id)
        .bind(product.as_str())
        .fetch_all(ex)
        .await?;
    rows.into_iter().map(grant_row).collect()
}

pub async fn find_grant<'e>(
    ex: impl SqliteExecutor<'e>,
    org_id: &str,
    access_id: &str,
) -> Result<Option<AccessGrant>, StoreError> {
    let row = sqlx::query(&format!("{GRANT_SELECT} WHERE g.org_id = ? AND a.access_id = ?"))
        .bind(org_id)
        .bind(access_id)
        .fetch_optional(ex)
        .await?;
    row.map(grant_row).transpose()
}

/// Records a review decision; only a grant still pending changes (false otherwise).
pub async fn decide_grant<'e>(
    ex: impl SqliteExecutor<'e>,
    access_id: &str,
    state: AccessState,
    decided_by: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE app_access SET state = ?, decided_at = ?, decided_by = ?
         WHERE access_id = ? AND state = 'PENDING_REVIEW'",
    )
    .bind(state.as_str())
    .bind(Utc::now())
    .bind(decided_by)
    .bind(access_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
