//! Stock changes. A delta is applied by one conditional UPDATE, so two
//! requests can never both take the last unit; the `stock >= 0` CHECK in the
//! schema is the wall behind it.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::catalog::access;
use crate::catalog::types::{MAX_STOCK, MIN_DELTA};
use crate::catalog::views::VariantView;
use crate::db::{self, Access, TenantTxn};
use crate::entities::variants;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::state::AppState;

/// Exactly one of `delta` (relative) or `set` (absolute).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    /// Added to the stock (negative takes away); refused if the stock would go below zero.
    #[validate(range(min = "MIN_DELTA", max = "MAX_STOCK", message = "must be -1000000000 to 1000000000"))]
    pub delta: Option<i64>,
    /// The new stock.
    #[validate(range(min = 0, max = "MAX_STOCK", message = "must be 0 to 1000000000"))]
    pub set: Option<i64>,
}

/// The change asked for, once exactly one of the two fields is present.
enum Change {
    Delta(i64),
    Set(i64),
}

impl StockChange {
    fn parse(&self) -> ApiResult<Change> {
        match (self.delta, self.set) {
            (Some(delta), None) => Ok(Change::Delta(delta)),
            (None, Some(stock)) => Ok(Change::Set(stock)),
            _ => Err(ApiError::field(
                "validation_failed",
                "delta",
                "send exactly one of `delta` or `set`",
            )),
        }
    }
}

/// Applies `delta` only if the result stays within 0..=MAX_STOCK; true if it did.
pub async fn apply_delta(txn: &TenantTxn, variant_id: Uuid, delta: i64) -> ApiResult<bool> {
    let (sql, values) = delta_sql(txn.tenant_id(), variant_id, delta);
    Ok(db::execute(&**txn, sql, values).await?.rows_affected() == 1)
}

/// The conditional UPDATE of [`apply_delta`] with `?` placeholders (also
/// for a checkout's batch): it changes no row when the stock would leave
/// 0..=MAX_STOCK. The query builder's text for it (a unit test compares
/// them), written out so a checkout does not build it each time.
pub fn delta_sql(tenant_id: Uuid, variant_id: Uuid, delta: i64) -> (&'static str, Vec<sea_orm::Value>) {
    (
        DELTA_UPDATE,
        vec![
            delta.into(),
            Utc::now().into(),
            tenant_id.into(),
            variant_id.into(),
            delta.into(),
            0i32.into(),
            delta.into(),
            MAX_STOCK.into(),
        ],
    )
}

const DELTA_UPDATE: &str = "UPDATE \"variants\" SET \"stock\" = \"stock\" + ?, \"updated_at\" = ? \
     WHERE \"variants\".\"tenant_id\" = ? AND \"variants\".\"id\" = ? AND \"stock\" + ? >= ? AND \"stock\" + ? <= ?";

async fn apply_set(txn: &TenantTxn, variant_id: Uuid, stock: i64) -> ApiResult<()> {
    variants::Entity::update_many()
        .col_expr(variants::Column::Stock, Expr::value(stock))
        .col_expr(variants::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(variants::Column::TenantId.eq(txn.tenant_id()))
        .filter(variants::Column::Id.eq(variant_id))
        .exec(&**txn)
        .await?;
    Ok(())
}

/// Changes a variant's stock by `delta` or to `set`. Honours `Idempotency-Key`.
#[utoipa::path(tag = "catalog", request_body = StockChange,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 200, body = VariantView), (status = 404),
        (status = 409, description = "insufficient_stock (nothing changed) or store_archived"),
        (status = 422, description = "validation_failed, or stock_limit when the result would exceed 10^9")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/variants/{variant_id}/stock")]
pub async fn change(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
    body: Valid<StockChange>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::CatalogWrite)?;
    let (store_id, variant_id) = path.into_inner();
    let body = body.0;
    let change = body.parse()?;
    let txn = scope.begin(&state, Access::Write).await?;
    let route = format!("POST /stores/{store_id}/variants/{variant_id}/stock");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let store = access::writable_store(&txn, store_id).await?;
    // Confirms the variant is this store's before touching it.
    access::variant(&txn, store_id, None, variant_id).await?;
    match change {
        Change::Delta(delta) => {
            if !apply_delta(&txn, variant_id, delta).await? {
                let current = access::variant(&txn, store_id, None, variant_id).await?.stock;
                return Err(if current.saturating_add(delta) < 0 {
                    ApiError::conflict(
                        "insufficient_stock",
                        format!("only {current} in stock; a change of {delta} would go below zero"),
                    )
                } else {
                    ApiError::field("stock_limit", "delta", format!("the stock may not exceed {MAX_STOCK}"))
                });
            }
        }
        Change::Set(stock) => apply_set(&txn, variant_id, stock).await?,
    }
    let variant = access::variant(&txn, store_id, None, variant_id).await?;
    let view = VariantView::new(variant, &store.currency);
    let response = idempotency::complete(&txn, claimed, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Value};
    use uuid::Uuid;

    use super::delta_sql;
    use crate::catalog::types::MAX_STOCK;
    use crate::entities::variants;

    /// The update as the query builder makes it.
    fn delta_update(tenant_id: Uuid, variant_id: Uuid, delta: i64) -> sea_orm::UpdateMany<variants::Entity> {
        let after = Expr::col(variants::Column::Stock).add(delta);
        variants::Entity::update_many()
            .col_expr(variants::Column::Stock, after.clone())
            .col_expr(variants::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(variants::Column::TenantId.eq(tenant_id))
            .filter(variants::Column::Id.eq(variant_id))
            .filter(after.clone().gte(0))
            .filter(after.lte(MAX_STOCK))
    }

    #[test]
    fn the_delta_sql_is_the_builders_update() {
        let (tenant, variant) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let built = delta_update(tenant, variant, -3).build(DbBackend::Sqlite);
        let (text, values) = delta_sql(tenant, variant, -3);
        assert_eq!(text, built.sql);
        let built = built.values.unwrap().0;
        assert_eq!(values.len(), built.len());
        for (i, (mine, theirs)) in values.iter().zip(&built).enumerate() {
            match (mine, theirs) {
                // The time each was built at.
                (Value::ChronoDateTimeUtc(Some(_)), Value::ChronoDateTimeUtc(Some(_))) => {}
                _ => assert_eq!(mine, theirs, "value {i}"),
            }
        }
    }
}
