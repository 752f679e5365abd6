//! Sites, apps and the organization's directory: users, groups, app access and access reviews.
//!
//! Every entry point takes the caller's admin id and the organization in the request path, checks
//! the caller's rights first, and looks everything up inside that organization only — an id from
//! another organization answers NotFound.

use crate::service::audit::AuditEvent;
use chrono::Utc;
use sqlx::SqliteConnection;

use super::identity::{require_app_admin, require_org_admin};
use super::ServiceError;
use crate::model::{
    AccessGrant, AccessGrantRequest, AccessReview, AccessState, App, Group, NewGroup, NewSite, NewUser, PageRequest,
    Paged, Product, ReviewDecision, Role, Site, SpaceType, User,
};
use crate::rules::content::{normalize_name, normalize_shard, personal_space_key, ContentRuleError, NAME_MAX};
use crate::rules::credentials::normalize_email;
use crate::rules::paging::{clamp_limit, clamp_offset, next_offset};
use crate::store::platform::{self as q, SiteRow};
use crate::store::{content as cq, identity as iq, new_id, Db, StoreError};

/// Site names are short labels (they appear in pickers).
pub const SITE_NAME_MAX: usize = 100;
/// The groups every organization gets with its first site (custom = false). `{product}` groups are
/// created for each app a site runs.
pub const SITE_ADMINS_GROUP: &str = "site-admins";

pub(crate) fn rule_error(code: &'static str) -> impl Fn(ContentRuleError) -> ServiceError {
    move |e| ServiceError::validation(code, e.to_string())
}

/// Maps a unique-constraint violation to a Conflict with `code`; anything else stays unexpected.
pub(crate) fn conflict_on_unique(code: &'static str, message: String) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| if e.is_unique_violation() { ServiceError::conflict(code, message) } else { e.into() }
}

/// A write transaction. `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that
/// reads and then writes fails at once with SQLITE_BUSY_SNAPSHOT when another writer committed in
/// between (WAL mode), where an immediate one simply waits its turn.
pub(crate) async fn begin(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, ServiceError> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await.map_err(StoreError::from)?)
}

pub(crate) async fn commit(tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<(), ServiceError> {
    Ok(tx.commit().await.map_err(StoreError::from)?)
}

pub(crate) fn paged<T>(items: Vec<T>, total: u64, offset: u64, limit: u32) -> Paged<T> {
    let next = next_offset(offset, items.len(), total);
    Paged { items, total, offset, limit, next_offset: next }
}

/// The caller's email: content they create names them by it.
pub(crate) async fn admin_email(db: &Db, admin_id: &str) -> Result<String, ServiceError> {
    Ok(iq::find_admin_by_id(db, admin_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("ADMIN_NOT_FOUND", "the signed-in account no longer exists"))?
        .email)
}

/// The site `cloud_id` of the organization, after the org-admin check.
pub(crate) async fn org_site(db: &Db, admin_id: &str, org_id: &str, cloud_id: &str) -> Result<SiteRow, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    q::find_site(db, org_id, cloud_id).await?.ok_or_else(site_not_found)
}

fn site_not_found() -> ServiceError {
    ServiceError::not_found("SITE_NOT_FOUND", "no such site in this organization")
}

/// Org admin, site in the org, app on the site, then app admin (403 only once the app is known to exist).
pub(crate) async fn org_app(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
) -> Result<(SiteRow, q::AppRow), ServiceError> {
    let site = org_site(db, admin_id, org_id, cloud_id).await?;
    let app = q::find_app(db, cloud_id, product)
        .await?
        .ok_or_else(|| ServiceError::not_found("APP_NOT_FOUND", format!("this site does not run {product}")))?;
    require_app_admin(db, admin_id, org_id, cloud_id, product).await?;
    Ok((site, app))
}

/// The name shown for a user created from an email alone.
pub(crate) fn display_name_from_email(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

// ---- sites and apps ----

/// `POST /orgs/{orgId}/sites`: the site, its apps, the organization's default groups (with their
/// access to the new apps) and, for Confluence, a personal space for the creator.
pub async fn create_site(db: &Db, admin_id: &str, org_id: &str, req: NewSite) -> Result<Site, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "site.create").target(req.name.clone());
    let result = create_site_unaudited(db, admin_id, org_id, req).await;
    event.record(db, result, |x| Some(x.cloud_id.clone())).await
}

async fn create_site_unaudited(db: &Db, admin_id: &str, org_id: &str, req: NewSite) -> Result<Site, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let email = admin_email(db, admin_id).await?;
    create_site_for(db, org_id, &email, req).await
}

/// Site creation on behalf of `creator_email` (also used by `lifeboat seed`, which has no session).
pub(crate) async fn create_site_for(
    db: &Db,
    org_id: &str,
    creator_email: &str,
    req: NewSite,
) -> Result<Site, ServiceError> {
    let name = normalize_name("site name", &req.name, SITE_NAME_MAX).map_err(rule_error("INVALID_SITE_NAME"))?;
    let shard = normalize_shard(&req.shard)
        .ok_or_else(|| ServiceError::validation("INVALID_SHARD", "a shard is 1 to 64 letters, digits, '-' or '_'"))?;
    let mut products: Vec<Product> = Vec::new();
    for p in req.products {
        if !products.contains(&p) {
            products.push(p);
        }
    }
    let site = SiteRow {
        cloud_id: new_id(),
        org_id: org_id.to_owned(),
        name,
        plan: req.plan,
        shard,
        free_trial: req.free_trial,
        created_at: Utc::now(),
    };

    let mut tx = begin(db).await?;
    q::insert_site(&mut *tx, &site)
        .await
        .map_err(conflict_on_unique("SITE_EXISTS", format!("a site named {:?} already exists", site.name)))?;
    let admins = q::ensure_group(&mut tx, org_id, SITE_ADMINS_GROUP, false).await?;
    for product in &products {
        q::insert_app(&mut *tx, &site.cloud_id, *product, site.plan, &site.shard).await?;
        let prefix = product.as_str().to_ascii_lowercase();
        let users = q::ensure_group(&mut tx, org_id, &format!("{prefix}-users"), false).await?;
        let product_admins = q::ensure_group(&mut tx, org_id, &format!("{prefix}-admins"), false).await?;
        q::upsert_grant(&mut tx, &users.group_id, &site.cloud_id, *product, Role::User, AccessState::Active).await?;
        for g in [&product_admins, &admins] {
            q::upsert_grant(&mut tx, &g.group_id, &site.cloud_id, *product, Role::Admin, AccessState::Active).await?;
        }
        if *product == Product::Confluence {
            create_default_space(&mut tx, org_id, &site.cloud_id, creator_email).await?;
        }
    }
    commit(tx).await?;
    site_with_apps(db, site).await
}

/// The personal space a new Confluence app gets for its creator, who becomes a directory user.
async fn create_default_space(
    conn: &mut SqliteConnection,
    org_id: &str,
    cloud_id: &str,
    email: &str,
) -> Result<(), ServiceError> {
    let user = q::ensure_user(conn, org_id, email, &display_name_from_email(email)).await?;
    let mut n = 0;
    let key = loop {
        let key = personal_space_key(email, n);
        if !cq::space_key_taken(&mut *conn, cloud_id, &key).await? {
            break key;
        }
        n += 1;
    };
    let name = user.display_name.chars().take(NAME_MAX).collect::<String>();
    cq::insert_space(
        &mut *conn,
        cloud_id,
        &key,
        &name,
        SpaceType::Personal,
        Some(&user.account_id),
        Some(&user.email),
        true,
    )
    .await?;
    Ok(())
}

async fn apps_of(db: &Db, cloud_id: &str) -> Result<Vec<App>, ServiceError> {
    let mut apps = Vec::new();
    for row in q::list_apps(db, cloud_id).await? {
        let contains = q::app_contains_data(db, cloud_id, row.product).await?;
        let counts = q::app_counts(db, cloud_id, row.product).await?;
        let busy = crate::store::backup::app_is_busy(db, cloud_id, row.product).await?;
        let mut app = row.into_app(contains, counts);
        app.busy = busy;
        apps.push(app);
    }
    Ok(apps)
}

async fn site_with_apps(db: &Db, s: SiteRow) -> Result<Site, ServiceError> {
    let apps = apps_of(db, &s.cloud_id).await?;
    Ok(Site {
        cloud_id: s.cloud_id,
        name: s.name,
        plan: s.plan,
        shard: s.shard,
        free_trial: s.free_trial,
        created_at: s.created_at,
        apps,
    })
}

/// `GET /orgs/{orgId}/sites`, by name.
pub async fn list_sites(db: &Db, admin_id: &str, org_id: &str) -> Result<Vec<Site>, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let mut sites = Vec::new();
    for s in q::list_sites(db, org_id).await? {
        sites.push(site_with_apps(db, s).await?);
    }
    Ok(sites)
}

pub async fn get_site(db: &Db, admin_id: &str, org_id: &str, cloud_id: &str) -> Result<Site, ServiceError> {
    let site = org_site(db, admin_id, org_id, cloud_id).await?;
    site_with_apps(db, site).await
}

/// `GET /orgs/{orgId}/cloud/{cloudId}/apps`.
pub async fn list_apps(db: &Db, admin_id: &str, org_id: &str, cloud_id: &str) -> Result<Vec<App>, ServiceError> {
    org_site(db, admin_id, org_id, cloud_id).await?;
    apps_of(db, cloud_id).await
}

// ---- users ----

/// `POST /orgs/{orgId}/users`.
pub async fn create_user(db: &Db, admin_id: &str, org_id: &str, req: NewUser) -> Result<User, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "user.create").target(req.email.clone());
    let result = create_user_unaudited(db, admin_id, org_id, req).await;
    event.record(db, result, |x| Some(x.account_id.clone())).await
}

async fn create_user_unaudited(db: &Db, admin_id: &str, org_id: &str, req: NewUser) -> Result<User, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let email = normalize_email(&req.email).map_err(|e| ServiceError::validation("INVALID_EMAIL", e.to_string()))?;
    let display_name = if req.display_name.trim().is_empty() {
        display_name_from_email(&email)
    } else {
        normalize_name("display name", &req.display_name, NAME_MAX).map_err(rule_error("INVALID_DISPLAY_NAME"))?
    };
    q::insert_user(db, org_id, &email, &display_name)
        .await
        .map_err(conflict_on_unique("USER_EXISTS", format!("a user with the email {email} already exists")))
}

/// `GET /orgs/{orgId}/users`, by email.
pub async fn list_users(db: &Db, admin_id: &str, org_id: &str, page: PageRequest) -> Result<Paged<User>, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_users(db, org_id).await?;
    let items = q::list_users(db, org_id, limit, offset).await?;
    Ok(paged(items, total, offset, limit))
}

// ---- groups ----

/// `POST /orgs/{orgId}/groups`: members are named by email and must be users of the organization.
pub async fn create_group(db: &Db, admin_id: &str, org_id: &str, req: NewGroup) -> Result<Group, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "group.create").target(req.name.clone());
    let result = create_group_unaudited(db, admin_id, org_id, req).await;
    event.record(db, result, |x| Some(x.group_id.clone())).await
}

async fn create_group_unaudited(db: &Db, admin_id: &str, org_id: &str, req: NewGroup) -> Result<Group, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let name = normalize_name("group name", &req.name, NAME_MAX).map_err(rule_error("INVALID_GROUP_NAME"))?;
    let mut tx = begin(db).await?;
    let group = q::insert_group(&mut *tx, org_id, &name, req.custom)
        .await
        .map_err(conflict_on_unique("GROUP_EXISTS", format!("a group named {name:?} already exists")))?;
    for raw in &req.members {
        let email = normalize_email(raw).map_err(|e| ServiceError::validation("INVALID_EMAIL", e.to_string()))?;
        let user = q::find_user_by_email(&mut *tx, org_id, &email).await?.ok_or_else(|| {
            ServiceError::validation("UNKNOWN_MEMBER", format!("{email} is not a user of this organization"))
        })?;
        q::add_member(&mut *tx, &group.group_id, &user.account_id).await?;
    }
    let members = q::group_member_emails(&mut *tx, &group.group_id).await?;
    commit(tx).await?;
    Ok(Group { group_id: group.group_id, name: group.name, custom: group.custom, members })
}

/// `GET /orgs/{orgId}/groups`, by name, with their members' emails.
pub async fn list_groups(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    page: PageRequest,
) -> Result<Paged<Group>, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let (limit, offset) = (clamp_limit(page.limit), clamp_offset(page.offset));
    let total = q::count_groups(db, org_id).await?;
    let mut items = Vec::new();
    for g in q::list_groups(db, org_id, limit, offset).await? {
        let members = q::group_member_emails(db, &g.group_id).await?;
        items.push(Group { group_id: g.group_id, name: g.name, custom: g.custom, members });
    }
    Ok(paged(items, total, offset, limit))
}

// ---- app access and reviews ----

/// `PUT /orgs/{orgId}/cloud/{cloudId}/apps/{product}/access`: an admin's grant is active at once
/// (it also settles a pending review of the same grant).
pub async fn grant_access(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
    req: AccessGrantRequest,
) -> Result<AccessGrant, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, "access.grant").target(format!("{cloud_id}/{product} {}", req.group));
    let result = grant_access_unaudited(db, admin_id, org_id, cloud_id, product, req).await;
    event.record(db, result, |_| None).await
}

async fn grant_access_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
    req: AccessGrantRequest,
) -> Result<AccessGrant, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, product).await?;
    let group = q::find_group_by_name(db, org_id, req.group.trim())
        .await?
        .ok_or_else(|| ServiceError::not_found("GROUP_NOT_FOUND", format!("no group named {:?}", req.group.trim())))?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(q::upsert_grant(&mut conn, &group.group_id, cloud_id, product, req.role, AccessState::Active).await?)
}

/// A restored group's access: stored `PENDING_REVIEW`, granting nothing until an admin approves it
/// (access affects billing). Called by the restore engine, with no admin behind the request.
pub async fn request_access_review(
    db: &Db,
    org_id: &str,
    group_name: &str,
    cloud_id: &str,
    product: Product,
    role: Role,
) -> Result<AccessGrant, ServiceError> {
    let group = q::find_group_by_name(db, org_id, group_name)
        .await?
        .ok_or_else(|| ServiceError::not_found("GROUP_NOT_FOUND", format!("no group named {group_name:?}")))?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(q::request_grant_review(&mut conn, &group.group_id, cloud_id, product, role).await?)
}

/// The grants on one app, every state (for the dashboard's app page).
pub async fn list_access(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
) -> Result<Vec<AccessGrant>, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, product).await?;
    Ok(q::grants_of_app(db, cloud_id, product).await?)
}

fn review_of(g: AccessGrant) -> AccessReview {
    AccessReview {
        review_id: g.access_id,
        group: g.group,
        cloud_id: g.cloud_id,
        product: g.product,
        role: g.role,
        status: g.state.into(),
    }
}

/// `GET /orgs/{orgId}/access-reviews`: grants waiting for a decision (restored groups' access).
pub async fn list_access_reviews(db: &Db, admin_id: &str, org_id: &str) -> Result<Vec<AccessReview>, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let grants = q::grants_in_state(db, org_id, AccessState::PendingReview).await?;
    // Only the apps the caller administers: another app's groups and roles are not theirs to see.
    let mut visible = Vec::with_capacity(grants.len());
    for g in grants {
        if iq::is_app_admin(db, org_id, admin_id, &g.cloud_id, g.product).await? {
            visible.push(review_of(g));
        }
    }
    Ok(visible)
}

/// `POST /orgs/{orgId}/access-reviews/{reviewId}/{approve|deny}`: approve makes the grant active;
/// deny keeps it, as DENIED, granting nothing. A review already decided answers 409.
pub async fn decide_access_review(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    review_id: &str,
    decision: ReviewDecision,
) -> Result<AccessReview, ServiceError> {
    let event = AuditEvent::new(admin_id, org_id, match decision {
        ReviewDecision::Approve => "access_review.approve",
        ReviewDecision::Deny => "access_review.deny",
    }).target(review_id);
    let result = decide_access_review_unaudited(db, admin_id, org_id, review_id, decision).await;
    event.record(db, result, |_| None).await
}

async fn decide_access_review_unaudited(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    review_id: &str,
    decision: ReviewDecision,
) -> Result<AccessReview, ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    let not_found = || ServiceError::not_found("REVIEW_NOT_FOUND", "no such access review");
    let grant = q::find_grant(db, org_id, review_id).await?.ok_or_else(not_found)?;
    require_app_admin(db, admin_id, org_id, &grant.cloud_id, grant.product).await?;
    let state = match decision {
        ReviewDecision::Approve => AccessState::Active,
        ReviewDecision::Deny => AccessState::Denied,
    };
    if !q::decide_grant(db, review_id, state, admin_id).await? {
        return Err(ServiceError::conflict("REVIEW_ALREADY_DECIDED", "this access review has already been decided"));
    }
    let grant = q::find_grant(db, org_id, review_id).await?.ok_or_else(not_found)?;
    Ok(review_of(grant))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::service::identity::{create_admin, open_database, CreatedAdmin};
    use crate::store;

    pub(crate) async fn setup() -> (tempfile::TempDir, Db, CreatedAdmin) {
        let dir = tempfile::tempdir().unwrap();
        let db = open_database(&store::default_url(dir.path())).await.unwrap();
        let admin = create_admin(&db, "ops@example.com", "Acme", "a long enough password", true).await.unwrap();
        (dir, db, admin)
    }

    pub(crate) fn new_site(name: &str, products: &[Product]) -> NewSite {
        NewSite {
            name: name.to_owned(),
            products: products.to_vec(),
            plan: crate::model::Plan::Premium,
            shard: "eu-1".to_owned(),
            free_trial: false,
        }
    }

    #[tokio::test]
    async fn sites_apps_and_default_space() {
        let (_d, db, a) = setup().await;
        let org = &a.org.org_id;
        let site = create_site(&db, &a.admin_id, org, new_site("main", &Product::ALL)).await.unwrap();
        assert_eq!(site.apps.len(), 2);
        assert!(site.apps.iter().all(|app| !app.contains_data && app.shard == "eu-1" && !app.busy));
        let conf = site.apps.iter().find(|app| app.product == Product::Confluence).unwrap();
        assert_eq!(conf.counts["spaces"], 1, "the creator's personal space");
        let err = create_site(&db, &a.admin_id, org, new_site(" main ", &[])).await.unwrap_err();
        assert_eq!(err.code(), "SITE_EXISTS");
        assert_eq!(
            create_site(&db, &a.admin_id, org, new_site("", &[])).await.unwrap_err().code(),
            "INVALID_SITE_NAME"
        );
        let users = list_users(&db, &a.admin_id, org, PageRequest::default()).await.unwrap();
        assert_eq!(users.items[0].email, "ops@example.com", "the creator became a directory user");
        let groups = list_groups(&db, &a.admin_id, org, PageRequest::default()).await.unwrap();
        let names: Vec<_> = groups.items.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["confluence-admins", "confluence-users", "jira-admins", "jira-users", "site-admins"]);
        assert!(groups.items.iter().all(|g| !g.custom));

        // Another organization sees nothing of this one.
        let b = create_admin(&db, "b@example.com", "Other", "a long enough password", true).await.unwrap();
        assert_eq!(list_apps(&db, &b.admin_id, org, &site.cloud_id).await.unwrap_err().code(), "ORG_NOT_FOUND");
        assert_eq!(
            list_apps(&db, &b.admin_id, &b.org.org_id, &site.cloud_id).await.unwrap_err().code(),
            "SITE_NOT_FOUND"
        );
        assert_eq!(list_sites(&db, &a.admin_id, org).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn users_groups_access_and_reviews() {
        let (_d, db, a) = setup().await;
        let (me, org) = (a.admin_id.as_str(), a.org.org_id.as_str());
        let site = create_site(&db, me, org, new_site("s", &[Product::Jira])).await.unwrap();
        let u =
            create_user(&db, me, org, NewUser { email: "Jane@X.io".into(), display_name: "".into() }).await.unwrap();
        assert_eq!((u.email.as_str(), u.display_name.as_str()), ("jane@x.io", "jane"));
        let dup = create_user(&db, me, org, NewUser { email: "jane@x.io".into(), display_name: "J".into() }).await;
        assert_eq!(dup.unwrap_err().code(), "USER_EXISTS");
        let g = create_group(
            &db,
            me,
            org,
            NewGroup { name: "devs".into(), members: vec!["JANE@x.io".into()], custom: true },
        )
        .await
        .unwrap();
        assert_eq!(g.members, ["jane@x.io"]);
        let bad = NewGroup { name: "x".into(), members: vec!["nobody@x.io".into()], custom: true };
        assert_eq!(create_group(&db, me, org, bad).await.unwrap_err().code(), "UNKNOWN_MEMBER");

        let req = AccessGrantRequest { group: "devs".into(), role: Role::User };
        let grant = grant_access(&db, me, org, &site.cloud_id, Product::Jira, req.clone()).await.unwrap();
        assert_eq!(grant.state, AccessState::Active);
        assert_eq!(
            grant_access(&db, me, org, &site.cloud_id, Product::Confluence, req).await.unwrap_err().code(),
            "APP_NOT_FOUND"
        );

        // A restore leaves grants pending; reviews list and decide them.
        let mut conn = db.acquire().await.unwrap();
        let pending = q::upsert_grant(
            &mut conn,
            &g.group_id,
            &site.cloud_id,
            Product::Jira,
            Role::Admin,
            AccessState::PendingReview,
        )
        .await
        .unwrap();
        drop(conn);
        let reviews = list_access_reviews(&db, me, org).await.unwrap();
        assert_eq!(reviews.len(), 1);
        assert_eq!((reviews[0].group.as_str(), reviews[0].role), ("devs", Role::Admin));
        let done = decide_access_review(&db, me, org, &pending.access_id, ReviewDecision::Deny).await.unwrap();
        assert_eq!(done.status, crate::model::ReviewStatus::Denied);
        assert_eq!(
            decide_access_review(&db, me, org, &pending.access_id, ReviewDecision::Approve).await.unwrap_err().code(),
            "REVIEW_ALREADY_DECIDED"
        );
        assert!(list_access_reviews(&db, me, org).await.unwrap().is_empty());
        let page = list_users(&db, me, org, PageRequest { limit: Some(1), offset: None }).await.unwrap();
        assert_eq!((page.items.len(), page.total, page.next_offset), (1, 1, None));
    }
}
