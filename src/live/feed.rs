//! The feed table: each stream's events as rows with a per-stream sequence,
//! written in the transaction of the change they report. Bumping
//! `streams.feed_seq` locks the stream row, so a stream's rows commit in
//! sequence order and a reader that has seen `n` never misses a later row
//! below `n`.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{stream_feed, streams};
use crate::error::{ApiError, ApiResult};
use crate::events::notify::{notify, FEED};

/// Rows are pruned on about one append in this many.
const PRUNE_EVERY: i64 = 64;

/// Locks the stream row (bumping its sequence by zero) and returns it; the
/// start of every change to a stream, so changes of one stream serialise.
pub async fn lock(txn: &TenantTxn, stream_id: Uuid) -> ApiResult<streams::Model> {
    bump(txn, stream_id, 0).await?;
    streams::Entity::find_by_id((txn.tenant_id(), stream_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `feed_seq += by` (which locks the row); without RETURNING, which SQLite
/// builds of sea-orm do not use, the caller reads the row back.
async fn bump(txn: &TenantTxn, stream_id: Uuid, by: i64) -> ApiResult<()> {
    let done = streams::Entity::update_many()
        .col_expr(streams::Column::FeedSeq, Expr::col(streams::Column::FeedSeq).add(by))
        .filter(streams::Column::TenantId.eq(txn.tenant_id()))
        .filter(streams::Column::Id.eq(stream_id))
        .exec(&**txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// Appends one event to the stream's feed; returns its sequence number.
pub async fn append(txn: &TenantTxn, stream_id: Uuid, kind: &str, data: Value, window: i64) -> ApiResult<i64> {
    bump(txn, stream_id, 1).await?;
    let seq = head(&**txn, txn.tenant_id(), stream_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    stream_feed::Entity::insert(stream_feed::ActiveModel {
        tenant_id: sea_orm::Set(txn.tenant_id()),
        stream_id: sea_orm::Set(stream_id),
        seq: sea_orm::Set(seq),
        kind: sea_orm::Set(kind.to_string()),
        data: sea_orm::Set(data),
        created_at: sea_orm::Set(Utc::now()),
    })
    .exec_without_returning(&**txn)
    .await?;
    notify(txn, FEED, &stream_id.to_string());
    if seq % PRUNE_EVERY == 0 && seq > window {
        stream_feed::Entity::delete_many()
            .filter(stream_feed::Column::TenantId.eq(txn.tenant_id()))
            .filter(stream_feed::Column::StreamId.eq(stream_id))
            .filter(stream_feed::Column::Seq.lte(seq - window))
            .exec(&**txn)
            .await?;
    }
    Ok(seq)
}

/// Rows after `after`, oldest first, at most `limit`.
pub async fn after(
    db: &impl sea_orm::ConnectionTrait,
    tenant_id: Uuid,
    stream_id: Uuid,
    after: i64,
    limit: u64,
) -> ApiResult<Vec<stream_feed::Model>> {
    Ok(stream_feed::Entity::find()
        .filter(stream_feed::Column::TenantId.eq(tenant_id))
        .filter(stream_feed::Column::StreamId.eq(stream_id))
        .filter(stream_feed::Column::Seq.gt(after))
        .order_by_asc(stream_feed::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The stream's last sequence number.
pub async fn head(db: &impl sea_orm::ConnectionTrait, tenant_id: Uuid, stream_id: Uuid) -> ApiResult<Option<i64>> {
    Ok(streams::Entity::find_by_id((tenant_id, stream_id))
        .select_only()
        .column(streams::Column::FeedSeq)
        .into_tuple()
        .one(db)
        .await?)
}
