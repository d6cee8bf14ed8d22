//! URL slugs: lowercase ASCII letters, digits and single dashes.

use crate::error::ApiError;

pub const MAX_LEN: usize = 48;

/// Makes a slug from any name ("Spring Sale!" -> "spring-sale").
pub fn slugify(name: &str) -> String {
    slugify_or(name, "store")
}

/// Like `slugify`, with `fallback` for a name that has no letters or digits.
pub fn slugify_or(name: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= MAX_LEN {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// Checks a slug the caller chose.
pub fn parse(field: &str, slug: &str) -> Result<String, ApiError> {
    let ok = !slug.is_empty()
        && slug.len() <= MAX_LEN
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(slug.to_string())
    } else {
        Err(ApiError::field(
            "invalid_slug",
            field,
            format!("must be 1 to {MAX_LEN} lowercase letters, digits and single dashes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_keeps_words_and_drops_the_rest() {
        assert_eq!(slugify("Spring Sale!"), "spring-sale");
        assert_eq!(slugify("  --Ünïcode & Co-- "), "n-code-co");
        assert_eq!(slugify("!!!"), "store");
    }

    #[test]
    fn parse_refuses_bad_slugs() {
        assert!(parse("slug", "good-slug-1").is_ok());
        for bad in ["", "Upper", "a--b", "-a", "a-", "a b", &"x".repeat(49)] {
            assert!(parse("slug", bad).is_err(), "{bad}");
        }
    }
}
