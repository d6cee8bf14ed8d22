//! Demo data for the embedded default, so a fresh `cargo run` has a mall to
//! look at. The demo merchant's password is random and printed once.

use anyhow::Context;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::auth::password;
use crate::auth::tokens::random_secret;
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
    stores::ActiveModel {
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
    tracing::info!(
        storefront = %format!("{base_url}/api/v1/storefront/{}/main", tenant.slug),
        merchant = EMAIL,
        password = %secret,
        "demo data created; this password is shown only now"
    );
    Ok(())
}
