//! Restore validation: the six checks of SPEC §2 (each PASS, WARNING or FAIL, with the consent a
//! warning needs) and whether a set of consents lets a restore go ahead. Pure: the service gathers
//! the facts, these functions decide.

use crate::model::{Check, CheckResult, Plan, Product};

pub const CONSENT_CONFLICTING_SPACE: &str = "Consent_Conflicting_Space_Check";
pub const CONSENT_CONFLICTING_GROUP: &str = "Consent_Conflicting_Group_Check";
pub const CONSENT_PRODUCT_LICENSE: &str = "Consent_Product_License_Check";
pub const CONSENT_SHARD: &str = "Consent_TDP_Shard_Check";
pub const CONSENT_SITE_LICENSE: &str = "Consent_Site_License_Check";
pub const ACCEPT_CUSTOM_GROUP: &str = "Accept_Custom_Group_Check";
pub const DENY_CUSTOM_GROUP: &str = "Deny_Custom_Group_Check";

pub const ALL_CONSENTS: [&str; 7] = [
    CONSENT_CONFLICTING_SPACE,
    CONSENT_CONFLICTING_GROUP,
    CONSENT_PRODUCT_LICENSE,
    CONSENT_SHARD,
    CONSENT_SITE_LICENSE,
    ACCEPT_CUSTOM_GROUP,
    DENY_CUSTOM_GROUP,
];

/// The custom-group check's name; its consent is Accept_… or Deny_….
pub const CUSTOM_GROUP_CHECK: &str = "Custom_Group_Check";

/// What validation found out about the backup and the destination.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub product: Option<Product>,
    /// Project (Jira) or space (Confluence) keys of the backup that exist on the destination.
    pub conflicting_keys: Vec<String>,
    /// Group names of the backup that exist in the destination's directory (users and groups restored).
    pub conflicting_groups: Vec<String>,
    pub backup_plan: Option<Plan>,
    pub destination_plan: Option<Plan>,
    pub backup_shard: String,
    pub destination_shard: String,
    /// The destination site is on the free plan or a free trial.
    pub destination_site_free: bool,
    /// Custom groups the restore would bring (users and groups restored).
    pub custom_groups: Vec<String>,
}

fn list(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(10).map(String::as_str).collect();
    if items.len() > shown.len() {
        format!("{} and {} more", shown.join(", "), items.len() - shown.len())
    } else {
        shown.join(", ")
    }
}

fn check(name: &str, warn: bool, consent: &str, pass: String, warning: String) -> Check {
    Check {
        name: name.to_owned(),
        result: if warn { CheckResult::Warning } else { CheckResult::Pass },
        consent: warn.then(|| consent.to_owned()),
        message: if warn { warning } else { pass },
    }
}

pub fn evaluate(f: &Facts) -> Vec<Check> {
    let what = match f.product {
        Some(Product::Confluence) => "spaces",
        _ => "projects",
    };
    let lower_plan = matches!((f.backup_plan, f.destination_plan), (Some(b), Some(d)) if d < b);
    vec![
        check(
            "Conflicting_Space_Check",
            !f.conflicting_keys.is_empty(),
            CONSENT_CONFLICTING_SPACE,
            format!("No {what} of the backup exist on the destination."),
            format!(
                "These {what} already exist on the destination and will be skipped (the destination's version stays): {}.",
                list(&f.conflicting_keys)
            ),
        ),
        check(
            "Conflicting_Group_Check",
            !f.conflicting_groups.is_empty(),
            CONSENT_CONFLICTING_GROUP,
            "No group of the backup exists on the destination.".into(),
            format!(
                "These groups exist on both; their memberships will be merged and users may gain permissions: {}.",
                list(&f.conflicting_groups)
            ),
        ),
        check(
            "Product_License_Check",
            lower_plan,
            CONSENT_PRODUCT_LICENSE,
            "The destination app's plan is at least the backed-up app's.".into(),
            format!(
                "The destination app is on {} and the backup was taken on {}: features of the higher plan will not be available.",
                f.destination_plan.map(|p| p.as_str()).unwrap_or("?"),
                f.backup_plan.map(|p| p.as_str()).unwrap_or("?")
            ),
        ),
        check(
            "TDP_Shard_Check",
            f.backup_shard != f.destination_shard,
            CONSENT_SHARD,
            "The destination is on the backup's shard.".into(),
            format!(
                "The destination app is on shard {} and the backup on {}: the app will be moved to {} first.",
                f.destination_shard, f.backup_shard, f.backup_shard
            ),
        ),
        check(
            "Site_License_Check",
            f.destination_site_free,
            CONSENT_SITE_LICENSE,
            "The destination site is on a paid plan.".into(),
            "The destination site is on the free plan or a free trial.".into(),
        ),
        Check {
            name: CUSTOM_GROUP_CHECK.into(),
            result: if f.custom_groups.is_empty() { CheckResult::Pass } else { CheckResult::Warning },
            consent: (!f.custom_groups.is_empty()).then(|| format!("{ACCEPT_CUSTOM_GROUP} or {DENY_CUSTOM_GROUP}")),
            message: if f.custom_groups.is_empty() {
                "The backup carries no custom groups.".into()
            } else {
                format!(
                    "The backup carries custom groups ({}): accept to restore them, or deny to restore without them.",
                    list(&f.custom_groups)
                )
            },
        },
    ]
}

/// Whether consents let a restore go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentOutcome {
    /// Every warning has its consent. `deny_custom_groups`: restore without custom groups.
    Ready { deny_custom_groups: bool },
    /// The consents still missing, by name.
    Missing(Vec<String>),
    /// A check failed: the restore cannot go ahead.
    Failed(String),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("{0:?} is not a consent name (expected one of {ALL_CONSENTS:?})")]
    Unknown(String),
    #[error("send Accept_Custom_Group_Check or Deny_Custom_Group_Check, not both")]
    AcceptAndDeny,
}

pub fn parse_consents(consents: &[String]) -> Result<Vec<String>, ConsentError> {
    let mut out: Vec<String> = Vec::new();
    for c in consents {
        let c = c.trim();
        let known = ALL_CONSENTS.iter().find(|k| k.eq_ignore_ascii_case(c)).ok_or_else(|| ConsentError::Unknown(c.to_owned()))?;
        if !out.iter().any(|o| o == known) {
            out.push((*known).to_owned());
        }
    }
    if out.iter().any(|c| c == ACCEPT_CUSTOM_GROUP) && out.iter().any(|c| c == DENY_CUSTOM_GROUP) {
        return Err(ConsentError::AcceptAndDeny);
    }
    Ok(out)
}

pub fn outcome(checks: &[Check], consents: &[String]) -> ConsentOutcome {
    if let Some(failed) = checks.iter().find(|c| c.result == CheckResult::Fail) {
        return ConsentOutcome::Failed(failed.message.clone());
    }
    let has = |name: &str| consents.iter().any(|c| c == name);
    let mut missing = Vec::new();
    let mut deny_custom_groups = false;
    for c in checks.iter().filter(|c| c.result == CheckResult::Warning) {
        if c.name == CUSTOM_GROUP_CHECK {
            if has(DENY_CUSTOM_GROUP) {
                deny_custom_groups = true;
            } else if !has(ACCEPT_CUSTOM_GROUP) {
                missing.push(format!("{ACCEPT_CUSTOM_GROUP} or {DENY_CUSTOM_GROUP}"));
            }
        } else if let Some(consent) = &c.consent {
            if !has(consent) {
                missing.push(consent.clone());
            }
        }
    }
    if missing.is_empty() {
        ConsentOutcome::Ready { deny_custom_groups }
    } else {
        ConsentOutcome::Missing(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            product: Some(Product::Jira),
            backup_plan: Some(Plan::Premium),
            destination_plan: Some(Plan::Premium),
            backup_shard: "eu-1".into(),
            destination_shard: "eu-1".into(),
            ..Facts::default()
        }
    }

    #[test]
    fn a_clean_destination_passes_everything() {
        let checks = evaluate(&facts());
        assert_eq!(checks.len(), 6);
        assert!(checks.iter().all(|c| c.result == CheckResult::Pass && c.consent.is_none()));
        assert_eq!(outcome(&checks, &[]), ConsentOutcome::Ready { deny_custom_groups: false });
    }

    #[test]
    fn each_warning_needs_its_own_consent() {
        let f = Facts {
            conflicting_keys: vec!["OPS".into()],
            conflicting_groups: vec!["devs".into()],
            destination_plan: Some(Plan::Standard),
            destination_shard: "us-1".into(),
            destination_site_free: true,
            custom_groups: vec!["devs".into()],
            ..facts()
        };
        let checks = evaluate(&f);
        assert!(checks.iter().all(|c| c.result == CheckResult::Warning));
        let all: Vec<String> = [CONSENT_CONFLICTING_SPACE, CONSENT_CONFLICTING_GROUP, CONSENT_PRODUCT_LICENSE, CONSENT_SHARD, CONSENT_SITE_LICENSE]
            .map(str::to_owned)
            .to_vec();
        match outcome(&checks, &all) {
            ConsentOutcome::Missing(m) => assert_eq!(m, vec!["Accept_Custom_Group_Check or Deny_Custom_Group_Check"]),
            other => panic!("{other:?}"),
        }
        let mut deny = all.clone();
        deny.push(DENY_CUSTOM_GROUP.into());
        assert_eq!(outcome(&checks, &deny), ConsentOutcome::Ready { deny_custom_groups: true });
        match outcome(&checks, &[CONSENT_SHARD.to_owned()]) {
            ConsentOutcome::Missing(m) => assert_eq!(m.len(), 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn consent_names_are_checked() {
        assert_eq!(parse_consents(&["consent_tdp_shard_check".into()]).unwrap(), vec![CONSENT_SHARD]);
        assert!(matches!(parse_consents(&["Consent_Everything".into()]), Err(ConsentError::Unknown(_))));
        assert_eq!(
            parse_consents(&[ACCEPT_CUSTOM_GROUP.into(), DENY_CUSTOM_GROUP.into()]),
            Err(ConsentError::AcceptAndDeny)
        );
    }
}
