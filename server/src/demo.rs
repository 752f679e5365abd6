//! `serve --demo`: a demo organization (plus a second one, so the organization switcher shows) and
//! its admin, created when missing; the first organization gets a seeded site to back up and an
//! empty one to restore into.

use anyhow::Context;
use lifeboat_domain::blobs::BlobStore;
use lifeboat_domain::model::{NewSite, Plan, Product, DEFAULT_SHARD};
use lifeboat_domain::service::seed::{seed, SeedOptions};
use lifeboat_domain::service::{identity, platform};
use lifeboat_domain::store::{identity as q, Db};
use rand::distributions::{Alphanumeric, DistString};

use crate::config::Config;

pub const DEMO_EMAIL: &str = "admin@demo.lifeboat.test";
pub const DEMO_ORGS: [&str; 2] = ["Demo Organization", "Demo Sandbox"];
pub const DEMO_SITE: &str = "Demo Site";
pub const EMPTY_SITE: &str = "Empty Site";

pub struct DemoCredentials {
    pub email: String,
    /// None when the admin already existed and no password was configured (it is not stored in clear).
    pub password: Option<String>,
}

pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
}

pub async fn ensure_demo(db: &Db, blobs: &BlobStore, config: &Config) -> anyhow::Result<DemoCredentials> {
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
    let admin = q::find_admin_by_email(db, DEMO_EMAIL).await?.context("the demo admin is missing")?;
    let org = q::find_org_by_name(db, DEMO_ORGS[0]).await?.context("the demo organization is missing")?;
    if platform::list_sites(db, &admin.admin_id, &org.org_id).await?.is_empty() {
        let opts = SeedOptions {
            org: org.name.clone(),
            site: DEMO_SITE.to_owned(),
            jira_projects: 3,
            issues: 120,
            comments: 240,
            spaces: 2,
            pages: 60,
            attachments: 12,
            attachment_size: 32 * 1024,
            users: 12,
            groups: 3,
            seed: 1,
        };
        seed(db, blobs, &opts, &|_| {}).await.context("cannot seed the demo site")?;
        let empty = NewSite {
            name: EMPTY_SITE.to_owned(),
            products: Product::ALL.to_vec(),
            plan: Plan::Standard,
            shard: DEFAULT_SHARD.to_owned(),
            free_trial: false,
        };
        platform::create_site(db, &admin.admin_id, &org.org_id, empty).await.context("cannot create the empty demo site")?;
    }
    Ok(DemoCredentials { email: DEMO_EMAIL.to_owned(), password })
}
