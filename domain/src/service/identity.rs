//! Admin accounts, sign-in, API tokens and rights checks.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::ServiceError;
use crate::model::{ApiTokenInfo, Org, Product, SignedInAdmin};
use crate::rules::credentials::{check_new_password, normalize_email, CredentialError};
use crate::store::{self, identity as q, Db};

/// Argon2id with OWASP's recommended minimum: 19 MiB memory, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Unexpected(format!("argon2 hashing failed: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a throw-away password, verified against when the account does not exist so that an
/// unknown email costs the same time as a wrong password (no account enumeration by timing).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("lifeboat-timing-equaliser").unwrap_or_default())
}

fn credential_error(e: CredentialError) -> ServiceError {
    let code = match e {
        CredentialError::InvalidEmail => "INVALID_EMAIL",
        CredentialError::PasswordTooShort | CredentialError::PasswordTooLong => "INVALID_PASSWORD",
    };
    ServiceError::validation(code, e.to_string())
}

pub struct CreatedAdmin {
    pub admin_id: String,
    pub email: String,
    pub org: Org,
    pub created_account: bool,
    pub created_org: bool,
}

/// `lifeboat admin create`: creates the organization if missing and the admin if missing (setting the
/// password when given), makes them organization admin and — unless `app_admin` is false — admin of
/// every app of the organization.
pub async fn create_admin(
    db: &Db,
    email: &str,
    org_name: &str,
    password: &str,
    app_admin: bool,
) -> Result<CreatedAdmin, ServiceError> {
    let email = normalize_email(email).map_err(credential_error)?;
    check_new_password(password).map_err(credential_error)?;
    let org_name = org_name.trim();
    if org_name.is_empty() || org_name.len() > 200 {
        return Err(ServiceError::validation("INVALID_ORG_NAME", "the organization name must be 1 to 200 characters"));
    }
    let hash = hash_password(password)?;

    let (org, created_org) = match q::find_org_by_name(db, org_name).await? {
        Some(org) => (org, false),
        None => (q::insert_org(db, org_name).await?, true),
    };
    let (admin, created_account) = match q::find_admin_by_email(db, &email).await? {
        Some(existing) => {
            q::update_password_hash(db, &existing.admin_id, &hash).await?;
            // A new password ends the account's dashboard sessions.
            q::delete_sign_ins_of_admin(db, &existing.admin_id).await?;
            (existing, false)
        }
        None => (q::insert_admin(db, &email, &hash).await?, true),
    };
    q::add_org_admin(db, &org.org_id, &admin.admin_id).await?;
    if app_admin {
        q::add_app_admin(db, &org.org_id, &admin.admin_id, None, None).await?;
    }
    Ok(CreatedAdmin { admin_id: admin.admin_id, email: admin.email, org, created_account, created_org })
}

/// Checks an email and password; the same error for an unknown account and a wrong password.
pub async fn authenticate_password(db: &Db, email: &str, password: &str) -> Result<SignedInAdmin, ServiceError> {
    let bad = || ServiceError::Unauthenticated {
        code: "INVALID_CREDENTIALS",
        message: "The email address or password is incorrect.".to_owned(),
    };
    let Ok(email) = normalize_email(email) else { return Err(bad()) };
    if password.len() > 4 * crate::rules::credentials::MAX_PASSWORD_LEN {
        return Err(bad());
    }
    let admin = q::find_admin_by_email(db, &email).await?;
    let phc = admin.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_owned());
    let password = password.to_owned();
    // Each verification holds 19 MiB for a while: at most a few run at once, so a burst of sign-ins
    // queues instead of exhausting memory.
    static VERIFIERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let _permit = VERIFIERS
        .get_or_init(|| tokio::sync::Semaphore::new(4))
        .acquire()
        .await
        .map_err(|e| ServiceError::Unexpected(e.to_string()))?;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| ServiceError::Unexpected(e.to_string()))?;
    match admin {
        Some(a) if ok => signed_in_admin(db, &a.admin_id).await?.ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// The admin and the organizations they administer, or None when the account no longer exists.
pub async fn signed_in_admin(db: &Db, admin_id: &str) -> Result<Option<SignedInAdmin>, ServiceError> {
    let Some(admin) = q::find_admin_by_id(db, admin_id).await? else { return Ok(None) };
    let orgs = q::orgs_of_admin(db, admin_id).await?;
    Ok(Some(SignedInAdmin { admin_id: admin.admin_id, email: admin.email, orgs }))
}

/// Records a dashboard sign-in; the session keeps the returned id. A session counts as signed in
/// only while its sign-in stands ([`sign_in_state`]): sign-out deletes it on the server, so a copy
/// of the session saved back by a request that was still in flight signs no one in. The record's
/// time is the one clock of the absolute timeout.
pub async fn start_sign_in(db: &Db, admin_id: &str) -> Result<String, ServiceError> {
    Ok(q::insert_sign_in(db, admin_id).await?)
}

/// Where a session's sign-in stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInState {
    Stands,
    /// Older than the absolute timeout: the session has ended (the sign-in page says so).
    Expired,
    /// Signed out, replaced, or never this admin's.
    Ended,
}

pub async fn sign_in_state(db: &Db, sign_in_id: &str, admin_id: &str, absolute_timeout: std::time::Duration) -> Result<SignInState, ServiceError> {
    Ok(match q::sign_in_is_recent(db, sign_in_id, admin_id, sign_in_cutoff(absolute_timeout)).await? {
        Some(true) => SignInState::Stands,
        Some(false) => SignInState::Expired,
        None => SignInState::Ended,
    })
}

/// Sign-ins from before this instant are older than `age`.
fn sign_in_cutoff(age: std::time::Duration) -> chrono::DateTime<chrono::Utc> {
    let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
    chrono::Utc::now().checked_sub_signed(age).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

pub async fn end_sign_in(db: &Db, sign_in_id: &str) -> Result<(), ServiceError> {
    Ok(q::delete_sign_in(db, sign_in_id).await?)
}

/// Forgets the sign-ins made more than `age` ago (the server passes its `auth::sign_in_retention`:
/// the absolute timeout and then the idle timeout, after which no session can present them).
pub async fn end_sign_ins_older_than(db: &Db, age: std::time::Duration) -> Result<u64, ServiceError> {
    Ok(q::delete_sign_ins_before(db, sign_in_cutoff(age)).await?)
}

/// Prefix that makes Lifeboat tokens recognisable to secret scanners.
const TOKEN_PREFIX: &str = "lbt_";

fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `lifeboat token create`: 256 random bits, returned once; only its SHA-256 is stored (a fast hash
/// is enough for a secret with that much entropy).
pub async fn create_token(db: &Db, email: &str, name: &str) -> Result<(ApiTokenInfo, String), ServiceError> {
    let email = normalize_email(email).map_err(credential_error)?;
    let admin = q::find_admin_by_email(db, &email)
        .await?
        .ok_or_else(|| ServiceError::not_found("ADMIN_NOT_FOUND", format!("no admin account for {email}")))?;
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ServiceError::validation("INVALID_TOKEN_NAME", "the token name must be 1 to 100 characters"));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let info = q::insert_token(db, &admin.admin_id, name, &token_hash(&secret)).await?;
    Ok((info, secret))
}

pub async fn list_tokens(db: &Db, email: &str) -> Result<Vec<ApiTokenInfo>, ServiceError> {
    let email = normalize_email(email).map_err(credential_error)?;
    let admin = q::find_admin_by_email(db, &email)
        .await?
        .ok_or_else(|| ServiceError::not_found("ADMIN_NOT_FOUND", format!("no admin account for {email}")))?;
    Ok(q::tokens_of_admin(db, &admin.admin_id).await?)
}

pub async fn revoke_token(db: &Db, email: &str, token_id: &str) -> Result<(), ServiceError> {
    let email = normalize_email(email).map_err(credential_error)?;
    let admin = q::find_admin_by_email(db, &email)
        .await?
        .ok_or_else(|| ServiceError::not_found("ADMIN_NOT_FOUND", format!("no admin account for {email}")))?;
    if q::revoke_token(db, &admin.admin_id, token_id).await? {
        Ok(())
    } else {
        Err(ServiceError::not_found("TOKEN_NOT_FOUND", "no live token with that id for this admin"))
    }
}

/// Checks `email:token` from HTTP Basic auth.
pub async fn authenticate_token(db: &Db, email: &str, secret: &str) -> Result<SignedInAdmin, ServiceError> {
    let bad = || ServiceError::Unauthenticated {
        code: "INVALID_CREDENTIALS",
        message: "The email address or API token is incorrect or revoked.".to_owned(),
    };
    let Ok(email) = normalize_email(email) else { return Err(bad()) };
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
        return Err(bad());
    }
    let admin = q::use_token(db, &email, &token_hash(secret)).await?.ok_or_else(bad)?;
    signed_in_admin(db, &admin.admin_id).await?.ok_or_else(bad)
}

/// Organization-admin check for the org in a request path. An org the caller does not administer
/// answers NotFound, so another organization's existence is never revealed.
pub async fn require_org_admin(db: &Db, admin_id: &str, org_id: &str) -> Result<(), ServiceError> {
    if q::is_org_admin(db, org_id, admin_id).await? {
        Ok(())
    } else {
        Err(ServiceError::not_found("ORG_NOT_FOUND", "no such organization"))
    }
}

/// App-admin check (after the org check): 403 for an org admin who does not administer the app.
pub async fn require_app_admin(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
) -> Result<(), ServiceError> {
    require_org_admin(db, admin_id, org_id).await?;
    if q::is_app_admin(db, org_id, admin_id, cloud_id, product).await? {
        Ok(())
    } else {
        Err(ServiceError::Forbidden {
            code: "NOT_APP_ADMIN",
            message: format!("you are not an admin of {product} on this site"),
        })
    }
}

/// The items of the apps the caller administers (lists across an organization show only those).
pub async fn only_administered<T>(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    items: Vec<T>,
    app: impl Fn(&T) -> (&str, Product),
) -> Result<Vec<T>, ServiceError> {
    // One query for the admin's rights, not one per item: lists can hold hundreds of items.
    let scopes = q::app_admin_scopes(db, org_id, admin_id).await?;
    Ok(items
        .into_iter()
        .filter(|item| {
            let (cloud, product) = app(item);
            scopes.covers(cloud, product)
        })
        .collect())
}

/// `lifeboat migrate` and server start.
pub async fn open_database(url: &str) -> Result<Db, ServiceError> {
    let db = store::connect(url).await.map_err(|e| ServiceError::Unexpected(e.to_string()))?;
    store::migrate(&db).await.map_err(|e| ServiceError::Unexpected(e.to_string()))?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = open_database(&store::default_url(dir.path())).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn dashboard_sign_ins_stand_until_ended_or_too_old() {
        let (_dir, db) = db().await;
        let a = create_admin(&db, "a@example.com", "Acme", "a long enough password", true).await.unwrap();
        let b = create_admin(&db, "b@example.com", "Acme", "a long enough password", true).await.unwrap();
        let hour = std::time::Duration::from_secs(3600);
        let state = |id: String, admin: String, timeout| {
            let db = db.clone();
            async move { sign_in_state(&db, &id, &admin, timeout).await.unwrap() }
        };
        let first = start_sign_in(&db, &a.admin_id).await.unwrap();
        let second = start_sign_in(&db, &a.admin_id).await.unwrap();
        assert_eq!(state(first.clone(), a.admin_id.clone(), hour).await, SignInState::Stands);
        assert_eq!(state(first.clone(), b.admin_id.clone(), hour).await, SignInState::Ended, "a sign-in is its admin's only");
        end_sign_in(&db, &first).await.unwrap();
        assert_eq!(state(first.clone(), a.admin_id.clone(), hour).await, SignInState::Ended);
        assert_eq!(state(second.clone(), a.admin_id.clone(), hour).await, SignInState::Stands, "other sign-ins stand");
        assert_eq!(end_sign_ins_older_than(&db, hour).await.unwrap(), 0);
        // Setting the password again (`lifeboat admin create` on an existing account) signs the
        // account out everywhere.
        let other = start_sign_in(&db, &b.admin_id).await.unwrap();
        create_admin(&db, "b@example.com", "Acme", "another long password", true).await.unwrap();
        assert_eq!(state(other, b.admin_id.clone(), hour).await, SignInState::Ended);
        // Past the absolute timeout a sign-in has expired (the guard says so), until the cleanup
        // deletes it.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let short = std::time::Duration::from_millis(10);
        assert_eq!(state(second.clone(), a.admin_id.clone(), short).await, SignInState::Expired);
        assert_eq!(end_sign_ins_older_than(&db, short).await.unwrap(), 1);
        assert_eq!(state(second, a.admin_id.clone(), hour).await, SignInState::Ended);
    }

    #[tokio::test]
    async fn admin_sign_in_and_tokens() {
        let (_dir, db) = db().await;
        let created = create_admin(&db, "Ops@Example.com", "Acme", "a long enough password", true).await.unwrap();
        assert!(created.created_account && created.created_org);
        assert!(authenticate_password(&db, "ops@example.com", "a long enough password").await.is_ok());
        assert_eq!(
            authenticate_password(&db, "ops@example.com", "wrong password!!").await.unwrap_err().code(),
            "INVALID_CREDENTIALS"
        );
        assert_eq!(
            authenticate_password(&db, "nobody@example.com", "a long enough password").await.unwrap_err().code(),
            "INVALID_CREDENTIALS"
        );

        let (info, secret) = create_token(&db, "ops@example.com", "ci").await.unwrap();
        assert!(secret.len() >= 4 + 32, "at least 128 bits of randomness");
        let me = authenticate_token(&db, "ops@example.com", &secret).await.unwrap();
        assert_eq!(me.orgs.len(), 1);
        assert!(authenticate_token(&db, "other@example.com", &secret).await.is_err());
        revoke_token(&db, "ops@example.com", &info.token_id).await.unwrap();
        assert!(authenticate_token(&db, "ops@example.com", &secret).await.is_err());
        assert!(list_tokens(&db, "ops@example.com").await.unwrap()[0].revoked_at.is_some());
    }

    #[tokio::test]
    async fn rights_are_per_org_and_app() {
        let (_dir, db) = db().await;
        let a = create_admin(&db, "a@example.com", "A", "a long enough password", true).await.unwrap();
        let b = create_admin(&db, "b@example.com", "B", "a long enough password", false).await.unwrap();
        require_app_admin(&db, &a.admin_id, &a.org.org_id, "site-1", Product::Jira).await.unwrap();
        create_admin(&db, "a@example.com", "A", "a long enough password", true).await.unwrap();
        let rights: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_admins WHERE admin_id = ?")
            .bind(&a.admin_id)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(rights, 1, "running admin create again adds no duplicate right");
        assert_eq!(require_org_admin(&db, &a.admin_id, &b.org.org_id).await.unwrap_err().code(), "ORG_NOT_FOUND");
        assert_eq!(
            require_app_admin(&db, &b.admin_id, &b.org.org_id, "site-1", Product::Jira).await.unwrap_err().code(),
            "NOT_APP_ADMIN"
        );
    }
}
