//! What the platform earns: MRR, revenue per plan and per plug-in (paid
//! invoices), and the authors' earnings per period.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AdminPrincipal;
use crate::db::Access;
use crate::error::ApiResult;
use crate::money::Money;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Revenue {
    /// The plan's or plug-in's id.
    pub id: Uuid,
    pub slug: String,
    pub amount: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorEarnings {
    pub author: String,
    pub period_start: DateTime<Utc>,
    pub gross: Money,
    pub share: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Monthly recurring revenue per currency: plans of active and past-due
    /// subscriptions plus their live rentals.
    pub mrr: Vec<Money>,
    pub revenue_per_plan: Vec<Revenue>,
    pub revenue_per_plugin: Vec<Revenue>,
    pub author_earnings: Vec<AuthorEarnings>,
}

const MRR: &str = "SELECT currency, CAST(SUM(amount) AS BIGINT) AS amount FROM ( \
    SELECT p.currency AS currency, p.price AS amount FROM subscriptions s JOIN plans p ON p.id = s.plan_id \
      WHERE s.status IN ('active', 'past_due') \
    UNION ALL \
    SELECT pp.currency AS currency, pp.monthly_price AS amount FROM installs i \
      JOIN plugin_prices pp ON pp.plugin_id = i.plugin_id \
      JOIN subscriptions s ON s.tenant_id = i.tenant_id \
      WHERE i.uninstalled_at IS NULL AND s.status IN ('active', 'past_due') \
    ) r GROUP BY currency ORDER BY currency";

const PER_PLAN: &str =
    "SELECT l.plan_id AS id, p.slug AS slug, i.currency AS currency, CAST(SUM(l.amount) AS BIGINT) AS amount \
    FROM invoice_lines l JOIN invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id \
    JOIN plans p ON p.id = l.plan_id WHERE i.status = 'paid' \
    GROUP BY l.plan_id, p.slug, i.currency ORDER BY p.slug";

const PER_PLUGIN: &str =
    "SELECT l.plugin_id AS id, g.slug AS slug, i.currency AS currency, CAST(SUM(l.amount) AS BIGINT) AS amount \
    FROM invoice_lines l JOIN invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id \
    JOIN plugins g ON g.id = l.plugin_id WHERE i.status = 'paid' \
    GROUP BY l.plugin_id, g.slug, i.currency ORDER BY g.slug";

const AUTHORS: &str =
    "SELECT author, period_start, currency, CAST(SUM(gross) AS BIGINT) AS gross, CAST(SUM(share) AS BIGINT) AS share \
    FROM author_ledger GROUP BY author, period_start, currency ORDER BY author, period_start";

async fn rows(txn: &DatabaseTransaction, sql: &str) -> ApiResult<Vec<sea_orm::QueryResult>> {
    let backend = txn.get_database_backend();
    Ok(txn.query_all_raw(Statement::from_string(backend, sql)).await?)
}

fn revenue(rows: Vec<sea_orm::QueryResult>) -> ApiResult<Vec<Revenue>> {
    rows.into_iter()
        .map(|r| {
            let currency: String = r.try_get("", "currency")?;
            Ok(Revenue {
                id: r.try_get("", "id")?,
                slug: r.try_get("", "slug")?,
                amount: Money::new(r.try_get("", "amount")?, &currency),
            })
        })
        .collect()
}

/// Revenue figures across every tenant.
#[utoipa::path(tag = "billing", responses((status = 200, body = Summary)), security(("bearer" = [])))]
#[get("/admin/billing/reports")]
pub async fn summary(state: web::Data<AppState>, _admin: AdminPrincipal) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let mrr = rows(&txn, MRR)
        .await?
        .into_iter()
        .map(|r| {
            let currency: String = r.try_get("", "currency")?;
            Ok(Money::new(r.try_get("", "amount")?, &currency))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let revenue_per_plan = revenue(rows(&txn, PER_PLAN).await?)?;
    let revenue_per_plugin = revenue(rows(&txn, PER_PLUGIN).await?)?;
    let author_earnings = rows(&txn, AUTHORS)
        .await?
        .into_iter()
        .map(|r| {
            let currency: String = r.try_get("", "currency")?;
            Ok(AuthorEarnings {
                author: r.try_get("", "author")?,
                period_start: r.try_get("", "period_start")?,
                gross: Money::new(r.try_get("", "gross")?, &currency),
                share: Money::new(r.try_get("", "share")?, &currency),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Summary {
        mrr,
        revenue_per_plan,
        revenue_per_plugin,
        author_earnings,
    }))
}
