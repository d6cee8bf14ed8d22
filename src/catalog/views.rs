//! What the catalog answers, and loading a page of products with their tags
//! and variants in two queries rather than two per product.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::catalog::types::ProductStatus;
use crate::entities::{product_tags, products, variants};
use crate::error::ApiResult;
use crate::money::Money;

#[derive(Debug, Serialize, ToSchema)]
pub struct VariantView {
    pub id: Uuid,
    pub product_id: Uuid,
    /// Unique within the store, compared case-sensitively.
    pub sku: String,
    pub title: String,
    pub price: Money,
    pub stock: i64,
    pub position: i32,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl VariantView {
    pub fn new(v: variants::Model, currency: &str) -> VariantView {
        VariantView {
            id: v.id,
            product_id: v.product_id,
            sku: v.sku,
            title: v.title,
            price: Money::new(v.price, currency),
            stock: v.stock,
            position: v.position,
            archived: v.archived,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub store_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: ProductStatus,
    /// Lowercase, deduplicated, sorted.
    pub tags: Vec<String>,
    pub images: Vec<String>,
    /// In display order, archived ones included (flagged).
    pub variants: Vec<VariantView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product with its tags and variants.
pub struct Loaded {
    pub product: products::Model,
    pub tags: Vec<String>,
    pub variants: Vec<variants::Model>,
}

impl Loaded {
    pub fn images(&self) -> Vec<String> {
        serde_json::from_value(self.product.images.clone()).unwrap_or_default()
    }

    pub fn into_view(self, currency: &str) -> ProductView {
        let images = self.images();
        let p = self.product;
        ProductView {
            id: p.id,
            store_id: p.store_id,
            title: p.title,
            description: p.description,
            status: ProductStatus::parse(&p.status),
            tags: self.tags,
            images,
            variants: self
                .variants
                .into_iter()
                .map(|v| VariantView::new(v, currency))
                .collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Which variants to load: merchants see archived ones, shoppers do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variants {
    All,
    Live,
}

/// Loads tags and variants for `rows`, keeping their order.
pub async fn load(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    rows: Vec<products::Model>,
    which: Variants,
) -> ApiResult<Vec<Loaded>> {
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut tags: HashMap<Uuid, Vec<String>> = HashMap::new();
    for t in product_tags::Entity::find()
        .filter(product_tags::Column::TenantId.eq(tenant_id))
        .filter(product_tags::Column::ProductId.is_in(ids.clone()))
        .order_by_asc(product_tags::Column::Tag)
        .all(db)
        .await?
    {
        tags.entry(t.product_id).or_default().push(t.tag);
    }
    let mut query = variants::Entity::find()
        .filter(variants::Column::TenantId.eq(tenant_id))
        .filter(variants::Column::ProductId.is_in(ids));
    if which == Variants::Live {
        query = query.filter(variants::Column::Archived.eq(false));
    }
    let mut by_product: HashMap<Uuid, Vec<variants::Model>> = HashMap::new();
    for v in query
        .order_by_asc(variants::Column::Position)
        .order_by_asc(variants::Column::Id)
        .all(db)
        .await?
    {
        by_product.entry(v.product_id).or_default().push(v);
    }
    Ok(rows
        .into_iter()
        .map(|product| Loaded {
            tags: tags.remove(&product.id).unwrap_or_default(),
            variants: by_product.remove(&product.id).unwrap_or_default(),
            product,
        })
        .collect())
}
