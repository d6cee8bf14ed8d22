//! Pinning and unpinning products: an ordered set of at most
//! `live.max_pins` products of the stream's store. A pin is followed by the
//! product's live price and stock on the feed.

use actix_web::{delete, post, web, HttpResponse};
use chrono::Utc;
use livemall_abi::PinEvent;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::TenantScope;
use crate::catalog::access::product;
use crate::db::TenantTxn;
use crate::entities::{stream_products, streams};
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::extract::Valid;
use crate::live::feed;
use crate::live::streams::{commit, ids, info, open_change, pinned, Pinned, ENDED};
use crate::live::views::StreamView;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// A product of the stream's store.
    pub product_id: Uuid,
}

fn not_ended(stream: &streams::Model) -> ApiResult<()> {
    if stream.status == ENDED {
        return Err(ApiError::conflict(
            "stream_ended",
            "an ended stream cannot change its pins",
        ));
    }
    Ok(())
}

/// Pins a product at the end of the pinned set; pinning a pinned product changes nothing.
#[utoipa::path(tag = "streams", request_body = PinRequest,
    responses((status = 200, body = StreamView), (status = 404),
        (status = 409, description = "stream_ended, too_many_pins"), (status = 422, description = "unknown_product")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/streams/{stream_id}/pins")]
pub async fn pin(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<PinRequest>,
) -> ApiResult<HttpResponse> {
    let (txn, stream) = open_change(&state, &scope, path.into_inner()).await?;
    not_ended(&stream)?;
    let product_id = body.0.product_id;
    product(&txn, stream.store_id, product_id).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::field("unknown_product", "product_id", "is not a product of this store"),
        other => other,
    })?;
    let mut pins = pinned(&txn, stream.id).await?;
    if pins.iter().any(|p| p.product_id == product_id) {
        return Ok(HttpResponse::Ok().json(StreamView::new(stream, ids(&pins))));
    }
    let max = state.settings.live.max_pins;
    if pins.len() >= max {
        return Err(ApiError::conflict(
            "too_many_pins",
            format!("at most {max} products can be pinned at once; unpin one first"),
        ));
    }
    let position = next_position(&txn, stream.id).await?;
    let now = Utc::now();
    stream_products::Entity::insert(stream_products::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        stream_id: Set(stream.id),
        product_id: Set(product_id),
        position: Set(Some(position)),
        first_pinned_at: Set(now),
        pinned_at: Set(Some(now)),
    })
    .on_conflict(
        OnConflict::columns([
            stream_products::Column::TenantId,
            stream_products::Column::StreamId,
            stream_products::Column::ProductId,
        ])
        .update_columns([stream_products::Column::Position, stream_products::Column::PinnedAt])
        .to_owned(),
    )
    .exec_without_returning(&*txn)
    .await?;
    pins.push(Pinned { product_id, at: now });
    let seq = record(&state, &txn, &stream, &pins, product_id, "pinned").await?;
    let mut view = StreamView::new(stream.clone(), ids(&pins));
    view.last_event_id = seq;
    commit(&state, txn, stream.id).await?;
    crate::live::prices::refresh(&state, stream.tenant_id, &stream, &[product_id]).await;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(tag = "streams",
    responses((status = 200, body = StreamView), (status = 404, description = "unknown stream, or the product is not pinned"),
        (status = 409, description = "stream_ended")),
    security(("bearer" = [])))]
#[delete("/stores/{store_id}/streams/{stream_id}/pins/{product_id}")]
pub async fn unpin(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, stream_id, product_id) = path.into_inner();
    let (txn, stream) = open_change(&state, &scope, (store_id, stream_id)).await?;
    not_ended(&stream)?;
    let mut pins = pinned(&txn, stream.id).await?;
    if !pins.iter().any(|p| p.product_id == product_id) {
        return Err(ApiError::NotFound);
    }
    stream_products::Entity::update_many()
        .col_expr(
            stream_products::Column::Position,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(stream_products::Column::TenantId.eq(txn.tenant_id()))
        .filter(stream_products::Column::StreamId.eq(stream.id))
        .filter(stream_products::Column::ProductId.eq(product_id))
        .exec(&*txn)
        .await?;
    pins.retain(|p| p.product_id != product_id);
    let seq = record(&state, &txn, &stream, &pins, product_id, "unpinned").await?;
    let mut view = StreamView::new(stream.clone(), ids(&pins));
    view.last_event_id = seq;
    commit(&state, txn, stream.id).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn next_position(txn: &TenantTxn, stream_id: Uuid) -> ApiResult<i64> {
    let max: Option<Option<i64>> = stream_products::Entity::find()
        .filter(stream_products::Column::TenantId.eq(txn.tenant_id()))
        .filter(stream_products::Column::StreamId.eq(stream_id))
        .select_only()
        .column_as(stream_products::Column::Position.max(), "max")
        .into_tuple()
        .one(&**txn)
        .await?;
    Ok(max.flatten().unwrap_or(0) + 1)
}

/// The feed event and the outbox event of a pin change; returns the feed event's id.
async fn record(
    state: &AppState,
    txn: &TenantTxn,
    stream: &streams::Model,
    pins: &[Pinned],
    product_id: Uuid,
    what: &str,
) -> ApiResult<i64> {
    let data = json!({"product_id": product_id, "pinned": ids(pins)});
    let seq = feed::append(txn, stream.id, what, data, state.settings.live.feed_window).await?;
    let topic = if what == "pinned" {
        "stream.product_pinned"
    } else {
        "stream.product_unpinned"
    };
    let event = PinEvent {
        stream: info(stream, pins),
        product_id: product_id.to_string(),
    };
    outbox::write(txn, topic, stream.id, &event).await?;
    Ok(seq)
}
