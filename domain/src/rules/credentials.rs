//! What makes an acceptable email address and password for an admin account.

/// Passwords shorter than this are refused (OWASP ASVS 2.1.1 asks for at least 12).
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longer passwords are refused so that hashing cost stays bounded (ASVS 2.1.2 allows up to 128+).
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters long")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_LEN} characters long")]
    PasswordTooLong,
}

/// The longest email address accepted (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX: usize = 254;

/// Normalises an email address for storage and lookup (trimmed, lower-case) and checks its shape.
pub fn normalize_email(raw: &str) -> Result<String, CredentialError> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@').ok_or(CredentialError::InvalidEmail)?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(email)
    } else {
        Err(CredentialError::InvalidEmail)
    }
}

pub fn check_new_password(password: &str) -> Result<(), CredentialError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        Err(CredentialError::PasswordTooShort)
    } else if len > MAX_PASSWORD_LEN {
        Err(CredentialError::PasswordTooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Admin@Example.COM ").unwrap(), "admin@example.com");
        for bad in ["", "no-at", "@x.io", "a@", "a@b@c", "a b@c.io", "a@.io", "a@io."] {
            assert_eq!(normalize_email(bad), Err(CredentialError::InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn password_length_bounds() {
        assert_eq!(check_new_password("short"), Err(CredentialError::PasswordTooShort));
        assert!(check_new_password("correct horse battery").is_ok());
        assert_eq!(check_new_password(&"x".repeat(300)), Err(CredentialError::PasswordTooLong));
    }
}
