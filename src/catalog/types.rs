//! The catalog's value rules, each in one place: request validation calls
//! them, and handlers use what they return.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::ValidationError;

/// Largest price in minor units: ten billion in a two-decimal currency, far
/// above any one item, and small enough that a cart total never nears i64.
pub const MAX_PRICE: i64 = 1_000_000_000_000;
/// Largest stock a variant may hold; keeps `stock + delta` far from i64 overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// The largest decrease one request may ask for.
pub const MIN_DELTA: i64 = -MAX_STOCK;
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_CHARS: usize = 40;
pub const MAX_IMAGES: usize = 20;
/// The URL length browsers and CDNs reliably accept.
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_SKU_LEN: usize = 64;
/// Variants per product: a size-by-colour grid fits, and a product page can show them all.
pub const MAX_VARIANTS: u64 = 100;
/// Products per collection: one curated shelf, answered whole without paging.
pub const MAX_COLLECTION_PRODUCTS: u64 = 250;
/// Upper bound for a variant's display position.
pub const MAX_POSITION: i32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Shown in the storefront.
    Active,
    /// Being prepared; hidden from shoppers.
    Draft,
    /// Retired; hidden from shoppers and from default lists, kept for orders.
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> ProductStatus {
        match s {
            "draft" => ProductStatus::Draft,
            "archived" => ProductStatus::Archived,
            _ => ProductStatus::Active,
        }
    }
}

fn invalid(code: &'static str, message: String) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Owned(message))
}

/// SKUs are compared exactly as written (case-sensitive): `ab-1` and `AB-1` are two SKUs.
pub fn validate_sku(sku: &str) -> Result<(), ValidationError> {
    let ok = !sku.is_empty()
        && sku.len() <= MAX_SKU_LEN
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "sku",
            format!("must be 1 to {MAX_SKU_LEN} letters, digits, `-`, `_` or `.`"),
        ))
    }
}

/// Tags are trimmed, lowercased, deduplicated and sorted.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    let mut out = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = normalize_tag(tag);
        let chars = tag.chars().count();
        if chars == 0 || chars > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            return Err(format!(
                "tag {i} must be 1 to {MAX_TAG_CHARS} characters without control characters"
            ));
        }
        out.insert(tag);
    }
    Ok(out.into_iter().collect())
}

/// The form a tag is stored and matched in.
pub fn normalize_tag(tag: &str) -> String {
    tag.trim().to_lowercase()
}

pub fn validate_tags(tags: &[String]) -> Result<(), ValidationError> {
    normalize_tags(tags).map(|_| ()).map_err(|m| invalid("tags", m))
}

/// Image URLs must be absolute http or https URLs with a host.
pub fn validate_images(images: &[String]) -> Result<(), ValidationError> {
    if images.len() > MAX_IMAGES {
        return Err(invalid("images", format!("at most {MAX_IMAGES} images")));
    }
    for (i, image) in images.iter().enumerate() {
        let ok = image.len() <= MAX_URL_LEN
            && url::Url::parse(image)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .unwrap_or(false);
        if !ok {
            return Err(invalid(
                "images",
                format!("image {i} must be an http or https URL of at most {MAX_URL_LEN} characters"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        let tags = vec![" Summer ".to_string(), "summer".into(), "Sale".into()];
        assert_eq!(
            normalize_tags(&tags).ok(),
            Some(vec!["sale".to_string(), "summer".into()])
        );
        assert!(normalize_tags(&["  ".to_string()]).is_err());
        assert!(normalize_tags(&["x".repeat(41)]).is_err());
        assert!(normalize_tags(&["é".repeat(40)]).is_ok(), "characters, not bytes");
        assert!(normalize_tags(&vec!["a".to_string(); 33]).is_err());
    }

    #[test]
    fn skus_and_images_follow_their_rules() {
        assert!(validate_sku("TS-01_blue.L").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65)] {
            assert!(validate_sku(bad).is_err(), "{bad}");
        }
        assert!(validate_images(&["https://cdn.example.com/a.jpg".to_string()]).is_ok());
        for bad in ["ftp://x/a.jpg", "javascript:alert(1)", "/relative.png", "https://"] {
            assert!(validate_images(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
