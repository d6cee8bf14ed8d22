//! Cursor pagination. Ids are UUIDv7, so id order is creation order and the
//! cursor is simply the last id of the previous page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::field(
                "invalid_limit",
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    pub fn after(&self) -> Result<Option<Uuid>, ApiError> {
        let Some(cursor) = &self.cursor else { return Ok(None) };
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .map(Some)
            .ok_or_else(|| ApiError::field("invalid_cursor", "cursor", "is not a cursor this API returned"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` rows fetched in id order.
    pub fn from_rows<R>(mut rows: Vec<R>, limit: u64, id: impl Fn(&R) -> Uuid, map: impl Fn(R) -> T) -> Page<T> {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| URL_SAFE_NO_PAD.encode(id(r).as_bytes()))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// Runs `query` for one page in id order and maps rows to views.
pub async fn fetch<E, V>(
    query: sea_orm::Select<E>,
    id_column: E::Column,
    page: &PageQuery,
    db: &impl sea_orm::ConnectionTrait,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> Result<Page<V>, ApiError>
where
    E: sea_orm::EntityTrait,
    V: From<E::Model>,
{
    fetch_in_order(query, id_column, page, db, id_of, sea_orm::Order::Asc).await
}

/// Like [`fetch`] in either id order; `Desc` lists histories newest first,
/// and the cursor then continues towards older rows.
pub async fn fetch_in_order<E, V>(
    query: sea_orm::Select<E>,
    id_column: E::Column,
    page: &PageQuery,
    db: &impl sea_orm::ConnectionTrait,
    id_of: impl Fn(&E::Model) -> Uuid,
    order: sea_orm::Order,
) -> Result<Page<V>, ApiError>
where
    E: sea_orm::EntityTrait,
    V: From<E::Model>,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let limit = page.limit()?;
    let mut query = query;
    if let Some(cursor) = page.after()? {
        // The next page continues past the cursor in the page's own order.
        query = match order {
            sea_orm::Order::Desc => query.filter(id_column.lt(cursor)),
            _ => query.filter(id_column.gt(cursor)),
        };
    }
    let rows = query.order_by(id_column, order).limit(limit + 1).all(db).await?;
    Ok(Page::from_rows(rows, limit, id_of, V::from))
}
