//! Plug-in rentals: a listed plug-in's monthly price per install and price
//! per 1,000 calls. Installing starts the rental and uninstalling ends it;
//! the billing run prices each install's time in the period to the second.

use std::collections::HashMap;

use actix_web::{put, web, HttpResponse};
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::AdminPrincipal;
use crate::billing::calc::{Metered, Rental};
use crate::billing::period::Period;
use crate::db::{Access, TenantTxn};
use crate::entities::{installs, plugin_prices, plugins, usage_records};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::money::{currency, Currency};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginPrice {
    /// Minor units per install and month.
    #[validate(range(min = 0, message = "must not be negative"))]
    pub monthly_price: i64,
    /// Minor units per 1,000 calls.
    #[validate(range(min = 0, message = "must not be negative"))]
    pub per_thousand_calls: i64,
    #[validate(custom(function = "currency::validate"))]
    pub currency: String,
}

/// Sets what renting the plug-in costs, from the next billing run on.
#[utoipa::path(tag = "billing", request_body = PluginPrice,
    responses((status = 200, body = PluginPrice), (status = 404)), security(("bearer" = [])))]
#[put("/admin/plugins/{slug}/price")]
pub async fn set_price(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    slug: web::Path<String>,
    body: Valid<PluginPrice>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let currency =
        Currency::parse(&body.currency).ok_or_else(|| ApiError::field("validation_failed", "currency", "unknown"))?;
    let txn = state.db.platform(Access::Write).await?;
    let plugin = plugins::Entity::find()
        .filter(plugins::Column::Slug.eq(slug.as_str()))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    plugin_prices::Entity::insert(plugin_prices::ActiveModel {
        plugin_id: Set(plugin.id),
        monthly_price: Set(body.monthly_price),
        per_thousand_calls: Set(body.per_thousand_calls),
        currency: Set(currency.code().to_string()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(plugin_prices::Column::PluginId)
            .update_columns([
                plugin_prices::Column::MonthlyPrice,
                plugin_prices::Column::PerThousandCalls,
                plugin_prices::Column::Currency,
                plugin_prices::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(PluginPrice {
        currency: currency.code().to_string(),
        ..body
    }))
}

/// The tenant's rentals and metered calls in `period`, for plug-ins priced
/// in `currency`.
pub async fn inputs(txn: &TenantTxn, period: Period, currency: &str) -> ApiResult<(Vec<Rental>, Vec<Metered>)> {
    let calls: Vec<(Option<Uuid>, Option<i64>)> = usage_records::Entity::find()
        .select_only()
        .column(usage_records::Column::InstallId)
        .column_as(Expr::cust("CAST(SUM(quantity) AS BIGINT)"), "calls")
        .filter(usage_records::Column::TenantId.eq(txn.tenant_id()))
        .filter(usage_records::Column::Metric.eq("plugin_calls"))
        .filter(usage_records::Column::OccurredAt.gte(period.start))
        .filter(usage_records::Column::OccurredAt.lt(period.end))
        .group_by(usage_records::Column::InstallId)
        .into_tuple()
        .all(&**txn)
        .await?;
    let called: HashMap<Uuid, i64> = calls
        .into_iter()
        .filter_map(|(id, n)| Some((id?, n.unwrap_or(0))))
        .collect();
    let rows: Vec<installs::Model> = installs::Entity::find()
        .filter(installs::Column::TenantId.eq(txn.tenant_id()))
        .filter(installs::Column::CreatedAt.lt(period.end))
        .all(&**txn)
        .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r.uninstalled_at.is_none_or(|u| u > period.start) || called.contains_key(&r.id))
        .collect();
    if rows.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let plugin_ids: Vec<Uuid> = rows.iter().map(|r| r.plugin_id).collect();
    let prices: HashMap<Uuid, plugin_prices::Model> = plugin_prices::Entity::find()
        .filter(plugin_prices::Column::PluginId.is_in(plugin_ids.clone()))
        .filter(plugin_prices::Column::Currency.eq(currency))
        .all(&**txn)
        .await?
        .into_iter()
        .map(|p| (p.plugin_id, p))
        .collect();
    if prices.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let names: HashMap<Uuid, String> = plugins::Entity::find()
        .filter(plugins::Column::Id.is_in(plugin_ids))
        .all(&**txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let mut rentals = Vec::new();
    let mut metered = Vec::new();
    for row in rows {
        let Some(price) = prices.get(&row.plugin_id) else {
            continue;
        };
        let plugin_name = names.get(&row.plugin_id).cloned().unwrap_or_default();
        rentals.push(Rental {
            install_id: row.id,
            plugin_id: row.plugin_id,
            plugin_name: plugin_name.clone(),
            monthly_price: price.monthly_price,
            from: row.created_at,
            to: row.uninstalled_at,
        });
        if let Some(n) = called.get(&row.id) {
            metered.push(Metered {
                install_id: row.id,
                plugin_id: row.plugin_id,
                plugin_name,
                calls: *n,
                per_thousand: price.per_thousand_calls,
            });
        }
    }
    Ok((rentals, metered))
}
