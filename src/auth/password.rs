//! Passwords: argon2id, computed on the blocking pool so a login never
//! stalls the async workers.

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::ApiError;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// The stated password policy: 10 to 128 characters, at least 4 different
/// characters, and not the account's email.
pub fn check_policy(password: &str, email: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    let message = if chars < MIN_LENGTH {
        Some(format!("must be at least {MIN_LENGTH} characters"))
    } else if chars > MAX_LENGTH {
        Some(format!("must be at most {MAX_LENGTH} characters"))
    } else if distinct(password) < 4 {
        Some("must use at least 4 different characters".to_string())
    } else if password.trim().eq_ignore_ascii_case(email.trim()) {
        Some("must not be the email address".to_string())
    } else {
        None
    };
    match message {
        Some(m) => Err(ApiError::field("weak_password", "password", m)),
        None => Ok(()),
    }
}

fn distinct(s: &str) -> usize {
    let mut seen: Vec<char> = s.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Checks a password against a stored hash. With no hash (unknown account)
/// it verifies against a fixed hash anyway, so both answers take as long.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok()
    })
    .await
    .context("password verification task")?;
    Ok(ok && known)
}

/// argon2id hash of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wLwFNL4Ve1qVsP4WJ0A9R4yt0qmGHrkHcvF2qGoDDvg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_repetitive_and_email_passwords() {
        assert!(check_policy("short", "a@b.co").is_err());
        assert!(check_policy("aaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_policy("someone@example.com", "someone@example.com").is_err());
        assert!(check_policy("correct horse battery", "a@b.co").is_ok());
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(verify("correct horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}

#[cfg(test)]
mod dummy {
    #[test]
    fn dummy_hash_parses_so_unknown_accounts_cost_a_full_verification() {
        assert!(argon2::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}

/// Length and variety, for `#[validate(custom)]`; the email check needs the
/// email and happens in `check_policy`.
pub fn validate_shape(password: &str) -> Result<(), validator::ValidationError> {
    check_policy(password, "").map_err(|e| {
        let message = match e {
            ApiError::Unprocessable { detail, .. } => detail,
            other => other.to_string(),
        };
        validator::ValidationError::new("weak_password").with_message(message.into())
    })
}
