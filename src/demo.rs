//! Demo data for the embedded default, so a fresh `cargo run` has a mall to
//! look at. The demo merchant's password is random and printed once.

use anyhow::Context;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;
use validator::Validate;

use crate::auth::password;
use crate::auth::tokens::random_secret;
use crate::catalog::products::{self, CreateProduct};
use crate::db::{Access, Db};
use crate::entities::{stores, tenants};
use crate::tenancy::tenants::create_with_owner;

pub const TENANT_NAME: &str = "Demo Mall";
pub const EMAIL: &str = "demo@livemall.local";

/// Seeds the demo tenant and store once; does nothing when they exist.
pub async fn seed(db: &Db, base_url: &str) -> anyhow::Result<()> {
    let txn = db.platform(Access::Write).await?;
    let exists = tenants::Entity::find()
        .filter(tenants::Column::Slug.eq("demo-mall"))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    let secret = random_secret(12);
    let hash = password::hash(secret.clone()).await?;
    let (tenant, _owner) = create_with_owner(&txn, TENANT_NAME, EMAIL, hash)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("creating the demo tenant")?;
    let now = Utc::now();
    let store = stores::ActiveModel {
        tenant_id: Set(tenant.id),
        id: Set(Uuid::now_v7()),
        name: Set("Main Street".into()),
        slug: Set("main".into()),
        currency: Set("EUR".into()),
        time_zone: Set("Europe/Paris".into()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .context("creating the demo store")?;
    txn.commit().await?;
    seed_catalog(db, tenant.id, store.id).await?;
    tracing::info!(
        storefront = %format!("{base_url}/api/v1/storefront/{}/main", tenant.slug),
        merchant = EMAIL,
        password = %secret,
        "demo data created; this password is shown only now"
    );
    Ok(())
}

/// A few products, so the demo storefront has something to show.
async fn seed_catalog(db: &Db, tenant_id: Uuid, store_id: Uuid) -> anyhow::Result<()> {
    let catalog = [
        json!({"title": "Linen shirt", "description": "Light and loose, for long summer streams.",
               "tags": ["summer", "shirts"], "variants": [
                   {"sku": "SHIRT-S", "title": "Small", "price": 3900, "stock": 12},
                   {"sku": "SHIRT-M", "title": "Medium", "price": 3900, "stock": 20},
                   {"sku": "SHIRT-L", "title": "Large", "price": 4200, "stock": 8}]}),
        json!({"title": "Ceramic mug", "tags": ["kitchen"],
               "variants": [{"sku": "MUG-01", "price": 1500, "stock": 40}]}),
        json!({"title": "Desk lamp", "tags": ["home"],
               "variants": [{"sku": "LAMP-01", "price": 4900, "stock": 5}]}),
    ];
    let txn = db.tenant(tenant_id, Access::Write).await?;
    for body in catalog {
        let body: CreateProduct = serde_json::from_value(body).context("reading a demo product")?;
        body.validate().context("checking a demo product")?;
        products::insert(&txn, store_id, &body)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("creating a demo product")?;
    }
    txn.commit().await?;
    Ok(())
}
