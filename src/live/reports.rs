//! What the stream integration reports while a stream is live: the viewer
//! count and comments. Each report is a feed event and an outbox event.

use actix_web::{post, web, HttpResponse};
use livemall_abi::{CommentEvent, ViewersEvent};
use sea_orm::{ActiveModelTrait, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::TenantScope;
use crate::entities::streams;
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::extract::Valid;
use crate::live::feed;
use crate::live::streams::{commit, ids, info, open_change, pinned, LIVE};
use crate::live::views::StreamView;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewersReport {
    /// Viewers right now, 0 to 10^9.
    #[validate(range(min = 0, max = 1_000_000_000, message = "must be 0 to 10^9"))]
    pub viewers: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentReport {
    /// The commenter's handle, 1 to 64 characters.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub author: String,
    /// 1 to 1000 characters.
    #[validate(length(min = 1, max = 1000, message = "must be 1 to 1000 characters"))]
    pub text: String,
}

/// Reports only make sense while the stream is live.
pub fn require_live(stream: &streams::Model) -> ApiResult<()> {
    if stream.status == LIVE {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "stream_not_live",
            format!("the stream is {}, not live", stream.status),
        ))
    }
}

#[utoipa::path(tag = "streams", request_body = ViewersReport,
    responses((status = 200, body = StreamView), (status = 404), (status = 409, description = "stream_not_live")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/streams/{stream_id}/viewers")]
pub async fn viewers(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<ViewersReport>,
) -> ApiResult<HttpResponse> {
    let (txn, stream) = open_change(&state, &scope, path.into_inner()).await?;
    require_live(&stream)?;
    let count = body.0.viewers;
    let peak = stream.peak_viewers.max(count);
    let mut active: streams::ActiveModel = stream.into();
    active.viewers = Set(count);
    active.peak_viewers = Set(peak);
    active.updated_at = Set(chrono::Utc::now());
    let stream = active.update(&*txn).await?;
    let pins = pinned(&txn, stream.id).await?;
    let window = state.settings.live.feed_window;
    let seq = feed::append(
        &txn,
        stream.id,
        "viewers",
        json!({"viewers": count, "peak": peak}),
        window,
    )
    .await?;
    let event = ViewersEvent {
        stream: info(&stream, &pins),
        viewers: u64::try_from(count).unwrap_or(0),
    };
    outbox::write(&txn, "stream.viewers", stream.id, &event).await?;
    let id = stream.id;
    let mut view = StreamView::new(stream, ids(&pins));
    view.last_event_id = seq;
    commit(&state, txn, id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(tag = "streams", request_body = CommentReport,
    responses((status = 201, description = "recorded; answers the feed event id"), (status = 404),
        (status = 409, description = "stream_not_live")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/streams/{stream_id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<CommentReport>,
) -> ApiResult<HttpResponse> {
    let (txn, stream) = open_change(&state, &scope, path.into_inner()).await?;
    require_live(&stream)?;
    let CommentReport { author, text } = body.0;
    let comments = stream.comments + 1;
    let mut active: streams::ActiveModel = stream.into();
    active.comments = Set(comments);
    let stream = active.update(&*txn).await?;
    let pins = pinned(&txn, stream.id).await?;
    let window = state.settings.live.feed_window;
    let data = json!({"author": author, "text": text});
    let seq = feed::append(&txn, stream.id, "comment", data, window).await?;
    let event = CommentEvent {
        stream: info(&stream, &pins),
        author,
        text,
    };
    outbox::write(&txn, "stream.comment", stream.id, &event).await?;
    commit(&state, txn, stream.id).await?;
    Ok(HttpResponse::Created().json(json!({"event_id": seq, "comments": comments})))
}
