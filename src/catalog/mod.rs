//! The catalog of each store: products with tags, images and variants (SKU,
//! price in minor units of the store's currency, stock), and collections.
//! Merchants manage it under `/stores/{store_id}/...`; shoppers read the
//! active part of it under `/storefront/{tenant_slug}/{store_slug}/...`.

pub mod access;
pub mod collections;
pub mod members;
pub mod products;
pub mod stock;
pub mod storefront;
pub mod types;
pub mod variants;
pub mod views;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::variants as variant_rows;
use crate::error::ApiResult;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(products::create)
        .service(products::list)
        .service(products::get)
        .service(products::update)
        .service(products::archive)
        .service(variants::create)
        .service(variants::update)
        .service(variants::archive)
        .service(stock::change)
        .service(collections::create)
        .service(collections::list)
        .service(collections::get)
        .service(collections::update)
        .service(collections::remove)
        .service(members::set_products)
        .service(storefront::list_products)
        .service(storefront::get_product)
        .service(storefront::list_collections)
        .service(storefront::get_collection);
}

/// Whether the store has priced anything; its prices are in its currency,
/// so the currency must not change under them.
pub async fn has_prices(txn: &TenantTxn, store_id: Uuid) -> ApiResult<bool> {
    Ok(variant_rows::Entity::find()
        .filter(variant_rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(variant_rows::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?
        .is_some())
}
