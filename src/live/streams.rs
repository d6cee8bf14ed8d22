//! Streams of a store: created scheduled, started (live), ended. Each
//! change locks the stream row, writes its feed event and its outbox event
//! in the same transaction, and wakes this process's feed and dispatcher.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use livemall_abi::{StreamEvent, StreamInfo, StreamPin};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, ReadOn, TenantTxn};
use crate::entities::{stream_products, streams};
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::extract::Valid;
use crate::http::pagination::{self, Page, PageQuery};
use crate::live::feed;
use crate::live::views::StreamView;
use crate::state::AppState;
use crate::tenancy::stores::find as find_store;

pub const SCHEDULED: &str = "scheduled";
pub const LIVE: &str = "live";
pub const ENDED: &str = "ended";

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStream {
    /// 1 to 200 characters.
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: String,
    /// When the stream is planned to start (RFC 3339).
    pub scheduled_at: DateTime<Utc>,
}

/// Checks the `streams` scope, opens a transaction and finds the store.
pub async fn open_store(state: &AppState, scope: &TenantScope, store_id: Uuid, access: Access) -> ApiResult<TenantTxn> {
    scope.require(Scope::Streams)?;
    let txn = scope.begin(state, access).await?;
    find_store(&txn, store_id).await?;
    Ok(txn)
}

/// The stream, if it belongs to this store of this tenant.
pub async fn find<'a>(on: impl Into<ReadOn<'a>>, store_id: Uuid, id: Uuid) -> ApiResult<streams::Model> {
    let on = on.into();
    let select = streams::Entity::find_by_id((on.tenant_id(), id)).filter(streams::Column::StoreId.eq(store_id));
    on.all(select).await?.into_iter().next().ok_or(ApiError::NotFound)
}

/// The stream a cart is placed from, as `cart.price` sees it: 422
/// `unknown_stream` when it is not a stream of this store.
pub async fn for_cart(on: ReadOn<'_>, store_id: Uuid, id: Uuid) -> ApiResult<StreamInfo> {
    let stream = find(on, store_id, id).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::field("unknown_stream", "stream_id", "is not a stream of this store"),
        other => other,
    })?;
    let pins = pinned(on, stream.id).await?;
    Ok(info(&stream, &pins))
}

/// Opens a write transaction and locks the stream for a change.
pub async fn open_change(
    state: &AppState,
    scope: &TenantScope,
    (store_id, stream_id): (Uuid, Uuid),
) -> ApiResult<(TenantTxn, streams::Model)> {
    let txn = open_store(state, scope, store_id, Access::Write).await?;
    find(&txn, store_id, stream_id).await?;
    let stream = feed::lock(&txn, stream_id).await?;
    Ok((txn, stream))
}

/// A product pinned right now, and when it was last pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    pub product_id: Uuid,
    pub at: DateTime<Utc>,
}

/// The product ids of `pins`, in order.
pub fn ids(pins: &[Pinned]) -> Vec<Uuid> {
    pins.iter().map(|p| p.product_id).collect()
}

/// Products pinned right now, in pin order.
pub async fn pinned<'a>(on: impl Into<ReadOn<'a>>, stream_id: Uuid) -> ApiResult<Vec<Pinned>> {
    let on = on.into();
    let select = stream_products::Entity::find()
        .filter(stream_products::Column::TenantId.eq(on.tenant_id()))
        .filter(stream_products::Column::StreamId.eq(stream_id))
        .filter(stream_products::Column::Position.is_not_null())
        .order_by_asc(stream_products::Column::Position);
    Ok(on
        .all(select)
        .await?
        .into_iter()
        .map(|p| Pinned {
            product_id: p.product_id,
            at: p.pinned_at.unwrap_or(p.first_pinned_at),
        })
        .collect())
}

/// The stream as plug-ins see it, with when each pinned product was pinned.
pub fn info(stream: &streams::Model, pinned: &[Pinned]) -> StreamInfo {
    StreamInfo {
        id: stream.id.to_string(),
        status: stream.status.clone(),
        pinned_product_ids: pinned.iter().map(|p| p.product_id.to_string()).collect(),
        pins: pinned
            .iter()
            .map(|p| StreamPin {
                product_id: p.product_id.to_string(),
                pinned_at_ms: p.at.timestamp_millis(),
            })
            .collect(),
    }
}

/// Commits a stream change and wakes the feed fan-out and the dispatcher.
pub async fn commit(state: &AppState, txn: TenantTxn, stream_id: Uuid) -> ApiResult<()> {
    txn.commit().await?;
    state.live.poke(stream_id);
    state.events.wake();
    Ok(())
}

pub async fn view(txn: &TenantTxn, stream: streams::Model) -> ApiResult<StreamView> {
    let pins = pinned(txn, stream.id).await?;
    Ok(StreamView::new(stream, ids(&pins)))
}

#[utoipa::path(tag = "streams", request_body = NewStream,
    responses((status = 201, body = StreamView), (status = 404), (status = 422)), security(("bearer" = [])))]
#[post("/stores/{store_id}/streams")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    body: Valid<NewStream>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let store_id = store_id.into_inner();
    let txn = open_store(&state, &scope, store_id, Access::Write).await?;
    let now = Utc::now();
    let stream = streams::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        title: Set(body.title.trim().to_string()),
        status: Set(SCHEDULED.into()),
        scheduled_at: Set(body.scheduled_at),
        started_at: Set(None),
        ended_at: Set(None),
        viewers: Set(0),
        peak_viewers: Set(0),
        comments: Set(0),
        feed_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let view = StreamView::new(stream, Vec::new());
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(tag = "streams", params(PageQuery),
    responses((status = 200, body = Page<StreamView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/streams")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let txn = open_store(&state, &scope, store_id, Access::Read).await?;
    let query = streams::Entity::find()
        .filter(streams::Column::TenantId.eq(txn.tenant_id()))
        .filter(streams::Column::StoreId.eq(store_id));
    let found: Page<streams::Model> = pagination::fetch(query, streams::Column::Id, &page, &*txn, |s| s.id).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for stream in found.items {
        items.push(view(&txn, stream).await?);
    }
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(tag = "streams", responses((status = 200, body = StreamView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/streams/{stream_id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, stream_id) = path.into_inner();
    let txn = open_store(&state, &scope, store_id, Access::Read).await?;
    let stream = find(&txn, store_id, stream_id).await?;
    Ok(HttpResponse::Ok().json(view(&txn, stream).await?))
}

fn wrong_transition(stream: &streams::Model, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_transition",
        format!("a {} stream cannot be {action}", stream.status),
    )
}

/// scheduled -> live.
#[utoipa::path(tag = "streams",
    responses((status = 200, body = StreamView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/streams/{stream_id}/start")]
pub async fn start(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), SCHEDULED, LIVE).await
}

/// live -> ended.
#[utoipa::path(tag = "streams",
    responses((status = 200, body = StreamView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/streams/{stream_id}/end")]
pub async fn end(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), LIVE, ENDED).await
}

async fn transition(
    state: &AppState,
    scope: &TenantScope,
    path: (Uuid, Uuid),
    from: &str,
    to: &str,
) -> ApiResult<HttpResponse> {
    let (txn, stream) = open_change(state, scope, path).await?;
    let (action, topic) = if to == LIVE {
        ("started", "stream.started")
    } else {
        ("ended", "stream.ended")
    };
    if stream.status != from {
        return Err(wrong_transition(&stream, action));
    }
    let now = Utc::now();
    let mut active: streams::ActiveModel = stream.into();
    active.status = Set(to.into());
    if to == LIVE {
        active.started_at = Set(Some(now));
    } else {
        active.ended_at = Set(Some(now));
        active.viewers = Set(0);
    }
    active.updated_at = Set(now);
    let stream = active.update(&*txn).await?;
    let pins = pinned(&txn, stream.id).await?;
    let data = json!({"status": stream.status, "at": now, "pinned": ids(&pins)});
    let seq = feed::append(&txn, stream.id, topic, data, state.settings.live.feed_window).await?;
    let event = StreamEvent {
        stream: info(&stream, &pins),
    };
    outbox::write(&txn, topic, stream.id, &event).await?;
    let mut view = StreamView::new(stream.clone(), ids(&pins));
    view.last_event_id = seq;
    commit(state, txn, stream.id).await?;
    if to == LIVE && !pins.is_empty() {
        crate::live::prices::refresh(state, stream.tenant_id, &stream, &ids(&pins)).await;
    }
    Ok(HttpResponse::Ok().json(view))
}

/// The stream by id alone, for the public feed (the tenant is already known).
pub async fn find_any(txn: &TenantTxn, id: Uuid) -> ApiResult<streams::Model> {
    streams::Entity::find_by_id((txn.tenant_id(), id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}
