//! A stream's numbers: viewers and comments from its reports, orders,
//! units and revenue from the orders placed with its id (cancelled and
//! refunded ones left out), and revenue per product pinned during it.

use actix_web::{get, web, HttpResponse};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::auth::TenantScope;
use crate::db::{Access, TenantTxn};
use crate::entities::{order_lines, orders, stream_products, streams};
use crate::error::ApiResult;
use crate::live::streams::{find, open_store};
use crate::live::views::{ProductStats, StreamStats};
use crate::state::AppState;
use crate::tenancy::stores::find as find_store;

const NOT_COUNTED: [&str; 2] = ["cancelled", "refunded"];

fn counted_orders(txn: &TenantTxn, stream_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(orders::Column::Id)
        .from(orders::Entity)
        .and_where(Expr::col(orders::Column::TenantId).eq(txn.tenant_id()))
        .and_where(Expr::col(orders::Column::StreamId).eq(stream_id))
        .and_where(Expr::col(orders::Column::Status).is_not_in(NOT_COUNTED))
        .to_owned()
}

fn sum(col: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::SimpleExpr {
    // PostgreSQL sums bigints as numeric; both engines read this back as i64.
    Expr::col(col).sum().cast_as(Alias::new("BIGINT"))
}

pub async fn compute(txn: &TenantTxn, stream: &streams::Model, currency: String) -> ApiResult<StreamStats> {
    let (orders_count, revenue): (i64, Option<i64>) = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(txn.tenant_id()))
        .filter(orders::Column::StreamId.eq(stream.id))
        .filter(orders::Column::Status.is_not_in(NOT_COUNTED))
        .select_only()
        .column_as(orders::Column::Id.count(), "orders")
        .column_as(sum(orders::Column::Total), "revenue")
        .into_tuple()
        .one(&**txn)
        .await?
        .unwrap_or((0, None));
    let per_product: Vec<(Uuid, Option<i64>, Option<i64>)> = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(txn.tenant_id()))
        .filter(order_lines::Column::OrderId.in_subquery(counted_orders(txn, stream.id)))
        .select_only()
        .column(order_lines::Column::ProductId)
        .column_as(sum(order_lines::Column::Quantity), "units")
        .column_as(sum(order_lines::Column::AdjustedTotal), "revenue")
        .group_by(order_lines::Column::ProductId)
        .into_tuple()
        .all(&**txn)
        .await?;
    let units = per_product.iter().map(|(_, u, _)| u.unwrap_or(0)).sum();
    let pinned = stream_products::Entity::find()
        .filter(stream_products::Column::TenantId.eq(txn.tenant_id()))
        .filter(stream_products::Column::StreamId.eq(stream.id))
        .all(&**txn)
        .await?;
    let products = pinned
        .into_iter()
        .map(|p| {
            let sold = per_product.iter().find(|(id, _, _)| *id == p.product_id);
            ProductStats {
                product_id: p.product_id,
                pinned_now: p.position.is_some(),
                units: sold.and_then(|s| s.1).unwrap_or(0),
                revenue: sold.and_then(|s| s.2).unwrap_or(0),
            }
        })
        .collect();
    let conversion = if stream.peak_viewers > 0 {
        orders_count as f64 / stream.peak_viewers as f64
    } else {
        0.0
    };
    Ok(StreamStats {
        stream_id: stream.id,
        status: stream.status.clone(),
        currency,
        viewers: stream.viewers,
        peak_viewers: stream.peak_viewers,
        comments: stream.comments,
        orders: orders_count,
        units,
        revenue: revenue.unwrap_or(0),
        conversion,
        products,
    })
}

/// The stream's numbers, while it is live and after.
#[utoipa::path(tag = "streams", responses((status = 200, body = StreamStats), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/streams/{stream_id}/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, stream_id) = path.into_inner();
    let txn = open_store(&state, &scope, store_id, Access::Read).await?;
    let store = find_store(&txn, store_id).await?;
    let stream = find(&txn, store_id, stream_id).await?;
    Ok(HttpResponse::Ok().json(compute(&txn, &stream, store.currency).await?))
}
