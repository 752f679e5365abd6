//! What makes an acceptable key, name or text for sites, directory entries and app content.
//! Keys are normalised (trimmed, upper-cased) before they are checked, so `abc` and `ABC` are one key.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentRuleError {
    #[error("a project key is 2 to 10 letters or digits and starts with a letter")]
    InvalidProjectKey,
    #[error("a space key is 2 to 32 letters or digits starting with a letter, or ~ and 1 to 64 letters or digits for a personal space")]
    InvalidSpaceKey,
    #[error("the {field} must be 1 to {max} characters without control characters")]
    InvalidText { field: &'static str, max: usize },
    #[error("the {field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
}

pub const PROJECT_KEY_MAX: usize = 10;
pub const SPACE_KEY_MAX: usize = 32;
pub const PERSONAL_KEY_MAX: usize = 64;
/// Names, titles, summaries and file names: one line of text.
pub const NAME_MAX: usize = 255;
/// An issue's status (`To Do`, `In Progress`...).
pub const STATUS_MAX: usize = 64;
/// Descriptions, bodies and comments: bounded so one request cannot grow a row without limit.
pub const BODY_MAX: usize = 1_000_000;

fn key_shape(key: &str, max: usize) -> bool {
    let mut chars = key.chars();
    (2..=max).contains(&key.len())
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A Jira project key (`ABC`, `OPS2`): issue keys are `KEY-N`.
pub fn normalize_project_key(raw: &str) -> Result<String, ContentRuleError> {
    let key = raw.trim().to_ascii_uppercase();
    if key_shape(&key, PROJECT_KEY_MAX) {
        Ok(key)
    } else {
        Err(ContentRuleError::InvalidProjectKey)
    }
}

/// A global space key, or — when `personal_allowed` — also a personal key `~name` (lower-case).
pub fn normalize_space_key(raw: &str, personal_allowed: bool) -> Result<String, ContentRuleError> {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix('~') {
        let rest = rest.to_ascii_lowercase();
        let ok = personal_allowed
            && (1..=PERSONAL_KEY_MAX).contains(&rest.len())
            && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        return if ok { Ok(format!("~{rest}")) } else { Err(ContentRuleError::InvalidSpaceKey) };
    }
    let key = raw.to_ascii_uppercase();
    if key_shape(&key, SPACE_KEY_MAX) {
        Ok(key)
    } else {
        Err(ContentRuleError::InvalidSpaceKey)
    }
}

/// The key of a personal space derived from its owner's email (`~` + the local part's letters and
/// digits); `n > 0` appends a number to resolve a clash.
pub fn personal_space_key(email: &str, n: u32) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String =
        local.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    if base.is_empty() {
        base.push_str("user");
    }
    let suffix = if n > 0 { n.to_string() } else { String::new() };
    base.truncate(PERSONAL_KEY_MAX - suffix.len());
    format!("~{base}{suffix}")
}

/// A one-line name (site, group, project, space, page title, summary, file name): trimmed, 1 to `max`
/// characters, no control characters (which also keeps titles usable as tree-path elements in the digest).
pub fn normalize_name(field: &'static str, raw: &str, max: usize) -> Result<String, ContentRuleError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > max || name.chars().any(char::is_control) {
        Err(ContentRuleError::InvalidText { field, max })
    } else {
        Ok(name.to_owned())
    }
}

/// Multi-line text (descriptions, bodies, comments): any characters, bounded length; may be empty.
pub fn check_body(field: &'static str, text: &str, max: usize) -> Result<(), ContentRuleError> {
    if text.len() > max {
        Err(ContentRuleError::TooLong { field, max })
    } else {
        Ok(())
    }
}

/// A comment must say something.
pub fn check_comment(text: &str) -> Result<(), ContentRuleError> {
    if text.trim().is_empty() || text.len() > BODY_MAX {
        Err(ContentRuleError::InvalidText { field: "comment", max: BODY_MAX })
    } else {
        Ok(())
    }
}

/// The longest shard name.
pub const SHARD_MAX: usize = 64;

/// A shard name: short, letters, digits, `-` and `_` (it names a storage location).
pub fn normalize_shard(raw: &str) -> Option<String> {
    let shard = raw.trim();
    let ok =
        (1..=SHARD_MAX).contains(&shard.len()) && shard.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| shard.to_owned())
}

/// A file name as stored for an attachment: its last path component only, no control characters.
pub fn normalize_filename(raw: &str) -> Result<String, ContentRuleError> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = normalize_name("file name", last, NAME_MAX)?;
    if name == "." || name == ".." {
        return Err(ContentRuleError::InvalidText { field: "file name", max: NAME_MAX });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_keys() {
        assert_eq!(normalize_project_key(" abc ").unwrap(), "ABC");
        assert_eq!(normalize_project_key("OPS2").unwrap(), "OPS2");
        assert_eq!(normalize_project_key("ABCDEFGHIJ").unwrap(), "ABCDEFGHIJ");
        for bad in ["", "A", "1AB", "AB-C", "ABCDEFGHIJK", "ÄB", "A B"] {
            assert_eq!(normalize_project_key(bad), Err(ContentRuleError::InvalidProjectKey), "{bad:?}");
        }
    }

    #[test]
    fn space_keys() {
        assert_eq!(normalize_space_key("docs", false).unwrap(), "DOCS");
        assert_eq!(normalize_space_key("~Alice1", true).unwrap(), "~alice1");
        assert!(normalize_space_key("~alice", false).is_err());
        assert!(normalize_space_key("~", true).is_err());
        assert!(normalize_space_key("~a.b", true).is_err());
        assert!(normalize_space_key(&"A".repeat(33), false).is_err());
        assert!(normalize_space_key("9X", false).is_err());
    }

    #[test]
    fn personal_keys_come_from_the_email() {
        assert_eq!(personal_space_key("Jane.Doe@example.com", 0), "~janedoe");
        assert_eq!(personal_space_key("jane.doe@example.com", 2), "~janedoe2");
        assert_eq!(personal_space_key("+@x.io", 0), "~user");
        assert_eq!(personal_space_key(&format!("{}@x.io", "a".repeat(80)), 12).len(), 1 + PERSONAL_KEY_MAX);
        assert!(normalize_space_key(&personal_space_key("x@y.z", 3), true).is_ok());
    }

    #[test]
    fn names_and_bodies() {
        assert_eq!(normalize_name("name", "  Team  ", 10).unwrap(), "Team");
        assert!(normalize_name("name", "   ", 10).is_err());
        assert!(normalize_name("name", "a\u{1e}b", 10).is_err());
        assert!(normalize_name("name", "abcdefghijk", 10).is_err());
        assert!(normalize_name("name", "ééééé", 5).is_ok(), "characters, not bytes");
        assert!(check_body("body", "", 10).is_ok());
        assert!(check_body("body", "line\nline", 10).is_ok());
        assert!(check_body("body", "12345678901", 10).is_err());
        assert!(check_comment(" \n").is_err());
        assert_eq!(normalize_shard(" eu-1 ").as_deref(), Some("eu-1"));
        assert_eq!(normalize_shard("a/b"), None);
        assert_eq!(normalize_filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(normalize_filename("C:\\x\\report.pdf").unwrap(), "report.pdf");
        assert!(normalize_filename("dir/").is_err());
        assert!(normalize_filename("..").is_err());
    }
}
