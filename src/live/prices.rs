//! Live prices and stock of pinned products. A variant's live price is what
//! the store's `cart.price` pipeline charges for a cart of one unit of it,
//! from this stream; it goes on the feed as a `price` event, its stock as a
//! `stock` event. Best effort: a failure is logged, the change it follows
//! has already committed.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::{Access, TenantTxn};
use crate::entities::{streams, variants};
use crate::error::ApiResult;
use crate::live::{feed, streams as live_streams};
use crate::orders::cart::{self, CartRequest, LineRequest};
use crate::orders::pricing;
use crate::state::AppState;
use crate::tenancy::stores::find as find_store;

/// Variants priced per product; more are left out of the feed.
const MAX_VARIANTS: u64 = 20;

/// Prices `products` and writes their `price` and `stock` events.
pub async fn refresh(state: &AppState, tenant_id: Uuid, stream: &streams::Model, products: &[Uuid]) {
    for product_id in products {
        if let Err(error) = refresh_one(state, tenant_id, stream, *product_id).await {
            tracing::warn!(stream = %stream.id, product = %product_id, error = %error, "live price refresh failed");
        }
    }
}

/// Prices the stream's pinned products again: a timer that fired for the
/// stream usually marks a price change (a countdown's end).
pub async fn refresh_pinned(state: &AppState, tenant_id: Uuid, stream_id: Uuid) {
    let found = async {
        let txn = state.db.tenant(tenant_id, Access::Read).await?;
        let stream = live_streams::find_any(&txn, stream_id).await?;
        let pins = live_streams::pinned(&txn, stream_id).await?;
        ApiResult::Ok((stream, live_streams::ids(&pins)))
    }
    .await;
    match found {
        Ok((stream, pins)) if stream.status == live_streams::LIVE && !pins.is_empty() => {
            refresh(state, tenant_id, &stream, &pins).await
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(stream = %stream_id, error = %error, "live price refresh failed"),
    }
}

async fn live_variants(txn: &TenantTxn, product_id: Uuid) -> ApiResult<Vec<variants::Model>> {
    Ok(variants::Entity::find()
        .filter(variants::Column::TenantId.eq(txn.tenant_id()))
        .filter(variants::Column::ProductId.eq(product_id))
        .filter(variants::Column::Archived.eq(false))
        .order_by_asc(variants::Column::Position)
        .limit(MAX_VARIANTS)
        .all(&**txn)
        .await?)
}

async fn refresh_one(state: &AppState, tenant_id: Uuid, stream: &streams::Model, product_id: Uuid) -> ApiResult<()> {
    let mut prices = Vec::new();
    let currency;
    {
        let txn = state.db.tenant(tenant_id, Access::Read).await?;
        let store = find_store(&txn, stream.store_id).await?;
        currency = store.currency.clone();
        let pins = live_streams::pinned(&txn, stream.id).await?;
        let found = live_variants(&txn, product_id).await?;
        let mut prepared = Vec::with_capacity(found.len());
        for variant in &found {
            let request = CartRequest {
                lines: vec![LineRequest {
                    variant_id: Some(variant.id.to_string()),
                    sku: None,
                    quantity: 1,
                }],
                codes: Vec::new(),
                customer_id: None,
                email: None,
                stream_id: Some(stream.id),
                currency: None,
            };
            // An inactive product has no price for shoppers; it is left out.
            let Ok(mut cart) = cart::build(&txn, &store, &request).await else {
                continue;
            };
            cart.stream = Some(live_streams::info(stream, &pins));
            prepared.push((variant.clone(), pricing::prepare(state, &txn, &store, cart).await?));
        }
        drop(txn);
        for (variant, prep) in prepared {
            let priced = pricing::run(state, tenant_id, prep).await?;
            prices.push(json!({
                "variant_id": variant.id,
                "sku": variant.sku,
                "list_price": variant.price,
                "price": priced.stacked.total,
                "labels": labels(&priced),
            }));
        }
    }
    write(state, tenant_id, stream.id, product_id, &currency, prices).await
}

fn labels(priced: &pricing::Priced) -> Vec<String> {
    priced
        .proposals
        .iter()
        .zip(&priced.stacked.decisions)
        .filter(|(_, d)| matches!(d, crate::orders::stacking::Decision::Applied { .. }))
        .map(|(a, _)| a.label.clone())
        .collect()
}

async fn write(
    state: &AppState,
    tenant_id: Uuid,
    stream_id: Uuid,
    product_id: Uuid,
    currency: &str,
    prices: Vec<Value>,
) -> ApiResult<()> {
    let txn = state.db.tenant(tenant_id, Access::Write).await?;
    let window = state.settings.live.feed_window;
    let data = json!({"product_id": product_id, "currency": currency, "variants": prices});
    feed::append(&txn, stream_id, "price", data, window).await?;
    stock_event(&txn, stream_id, product_id, window).await?;
    txn.commit().await?;
    state.live.poke(stream_id);
    Ok(())
}

/// Appends the product's stock left, per variant, to the stream's feed.
pub async fn stock_event(txn: &TenantTxn, stream_id: Uuid, product_id: Uuid, window: i64) -> ApiResult<()> {
    let stock: Vec<Value> = live_variants(txn, product_id)
        .await?
        .into_iter()
        .map(|v| json!({"variant_id": v.id, "sku": v.sku, "stock": v.stock}))
        .collect();
    let data = json!({"product_id": product_id, "variants": stock});
    feed::append(txn, stream_id, "stock", data, window).await?;
    Ok(())
}
