//! `GET /storefront/{tenant_slug}/streams/{stream_id}/events`: the public
//! live feed as server-sent events. A new viewer first gets a `snapshot`;
//! one that reconnects with `Last-Event-ID` gets what it missed from the
//! table, or `window_passed` and a snapshot when that is older than the
//! kept window. Then the stream's shared frames follow.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_ENCODING};
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::db::Access;
use crate::entities::tenants;
use crate::error::{ApiError, ApiResult};
use crate::live::hub::{frame, row_frame, Frame, Hub};
use crate::live::{feed, streams};
use crate::state::AppState;

const KEEPALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedQuery {
    /// For clients that cannot send the `Last-Event-ID` header.
    pub last_event_id: Option<i64>,
}

/// The live feed of a stream (server-sent events).
#[utoipa::path(tag = "storefront", params(FeedQuery),
    responses((status = 200, content_type = "text/event-stream", description = "the feed"), (status = 404),
        (status = 400, description = "invalid_last_event_id")))]
#[get("/storefront/{tenant_slug}/streams/{stream_id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, Uuid)>,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (tenant_slug, stream_id) = path.into_inner();
    let last = last_event_id(&req)?.or(query.last_event_id);
    let tenant_id = {
        let txn = state.db.platform(Access::Read).await?;
        tenants::Entity::find()
            .filter(tenants::Column::Slug.eq(tenant_slug))
            .filter(tenants::Column::Status.eq("active"))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound)?
            .id
    };
    let rx = state.live.subscribe(tenant_id, stream_id).await?;
    let window = state.settings.live.feed_window;
    let (first, sent) = catch_up(&state.live, tenant_id, stream_id, last, window).await?;
    let viewer = Viewer {
        hub: Arc::clone(&state.live),
        tenant_id,
        stream_id,
        window,
        rx,
        sent,
        queue: first.into(),
        keepalive: tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE),
    };
    let body = futures_util::stream::unfold(viewer, |mut v| async move {
        let bytes = v.next().await?;
        Some((Ok::<_, actix_web::Error>(bytes), v))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((CACHE_CONTROL, "no-cache"))
        // Compression would hold events back in its buffer.
        .insert_header((CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

fn last_event_id(req: &HttpRequest) -> ApiResult<Option<i64>> {
    let Some(value) = req.headers().get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be an id this feed sent"))
}

/// What a viewer gets before the shared frames: the missed rows, or a snapshot.
async fn catch_up(
    hub: &Hub,
    tenant_id: Uuid,
    stream_id: Uuid,
    after: Option<i64>,
    window: i64,
) -> ApiResult<(Vec<Bytes>, i64)> {
    let txn = hub.db().tenant(tenant_id, Access::Read).await?;
    let head = feed::head(&*txn, tenant_id, stream_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut out = vec![Bytes::from_static(b"retry: 2000\n\n")];
    match after {
        Some(n) if n <= head && n >= head - window => {
            let rows = feed::after(
                &*txn,
                tenant_id,
                stream_id,
                n,
                u64::try_from(window.max(1)).unwrap_or(1),
            )
            .await?;
            let mut sent = n;
            for row in rows.iter().filter(|r| r.seq <= head) {
                sent = row.seq;
                out.push(row_frame(row).bytes);
            }
            return Ok((out, sent));
        }
        Some(n) => {
            let data = json!({"last_event_id": n, "oldest_event_id": (head - window + 1).max(1), "head": head});
            out.push(Bytes::from(format!("event: window_passed\ndata: {data}\n\n")));
        }
        None => {}
    }
    let stream = streams::find_any(&txn, stream_id).await?;
    let pins = streams::pinned(&txn, stream_id).await?;
    let data = json!({
        "stream": {"id": stream.id, "title": stream.title, "status": stream.status},
        "pinned": streams::ids(&pins),
        "viewers": stream.viewers,
    });
    out.push(frame(head, "snapshot", &data));
    Ok((out, head))
}

struct Viewer {
    hub: Arc<Hub>,
    tenant_id: Uuid,
    stream_id: Uuid,
    window: i64,
    rx: Receiver<Frame>,
    /// The last event id this viewer has been sent.
    sent: i64,
    queue: VecDeque<Bytes>,
    keepalive: tokio::time::Interval,
}

impl Viewer {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.queue.pop_front() {
                return Some(bytes);
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    // Already sent from the table while catching up.
                    Ok(frame) if frame.seq <= self.sent => continue,
                    Ok(frame) => {
                        self.sent = frame.seq;
                        return Some(frame.bytes);
                    }
                    Err(RecvError::Lagged(_)) => {
                        let caught = catch_up(&self.hub, self.tenant_id, self.stream_id, Some(self.sent), self.window).await;
                        let Ok((frames, sent)) = caught else { return None };
                        // Skip the `retry` line the first answer carried.
                        self.queue.extend(frames.into_iter().skip(1));
                        self.sent = sent;
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.keepalive.tick() => return Some(Bytes::from_static(b": keepalive\n\n")),
            }
        }
    }
}
