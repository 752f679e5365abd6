//! `serve --demo`: a demo organization (plus a second one, so the organization switcher shows) and
//! its admin, created when missing.

use anyhow::Context;
use lifeboat_domain::service::identity;
use lifeboat_domain::store::{identity as q, Db};
use rand::distributions::{Alphanumeric, DistString};

use crate::config::Config;

pub const DEMO_EMAIL: &str = "admin@demo.lifeboat.test";
pub const DEMO_ORGS: [&str; 2] = ["Demo Organization", "Demo Sandbox"];

pub struct DemoCredentials {
    pub email: String,
    /// None when the admin already existed and no password was configured (it is not stored in clear).
    pub password: Option<String>,
}

pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
}

pub async fn ensure_demo(db: &Db, config: &Config) -> anyhow::Result<DemoCredentials> {
    let exists = q::find_admin_by_email(db, DEMO_EMAIL).await?.is_some();
    let password = match (&config.demo_password, exists) {
        (Some(p), _) => Some(p.clone()),
        (None, false) => Some(random_password()),
        (None, true) => None,
    };
    if let Some(password) = &password {
        for org in DEMO_ORGS {
            identity::create_admin(db, DEMO_EMAIL, org, password, true)
                .await
                .with_context(|| format!("cannot create the demo admin in {org}"))?;
        }
    }
    Ok(DemoCredentials { email: DEMO_EMAIL.to_owned(), password })
}
