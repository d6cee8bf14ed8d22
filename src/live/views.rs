//! What the streams API answers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::streams;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StreamView {
    pub id: Uuid,
    pub store_id: Uuid,
    pub title: String,
    /// `scheduled`, `live` or `ended`.
    pub status: String,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub viewers: i64,
    pub peak_viewers: i64,
    pub comments: i64,
    /// Pinned right now, in pin order.
    pub pinned_product_ids: Vec<Uuid>,
    /// The feed's last event id.
    pub last_event_id: i64,
    pub created_at: DateTime<Utc>,
}

impl StreamView {
    pub fn new(s: streams::Model, pinned: Vec<Uuid>) -> StreamView {
        StreamView {
            id: s.id,
            store_id: s.store_id,
            title: s.title,
            status: s.status,
            scheduled_at: s.scheduled_at,
            started_at: s.started_at,
            ended_at: s.ended_at,
            viewers: s.viewers,
            peak_viewers: s.peak_viewers,
            comments: s.comments,
            pinned_product_ids: pinned,
            last_event_id: s.feed_seq,
            created_at: s.created_at,
        }
    }
}

/// Sales of one product during the stream.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductStats {
    pub product_id: Uuid,
    pub pinned_now: bool,
    pub units: i64,
    /// Line totals after line adjustments, minor units.
    pub revenue: i64,
}

/// A stream's numbers, live or after it ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StreamStats {
    pub stream_id: Uuid,
    pub status: String,
    pub currency: String,
    pub viewers: i64,
    pub peak_viewers: i64,
    pub comments: i64,
    /// Orders placed from the stream, cancelled and refunded ones left out.
    pub orders: i64,
    pub units: i64,
    /// Order totals, minor units.
    pub revenue: i64,
    /// Orders per peak viewer (0 when nobody watched).
    pub conversion: f64,
    /// Every product pinned during the stream.
    pub products: Vec<ProductStats>,
}
