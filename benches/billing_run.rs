//! A billing run over many tenants with mixed plans, trials, rentals,
//! metered calls and pending prorations: seeds a fresh database directly,
//! then times `billing::run::run` for the instant every period has ended
//! and reports the process's peak resident memory during the run.
//!
//! `nice cargo bench --bench billing_run` (SQLite in a temp dir), or with
//! `BILL_ENGINE=postgres` (a fresh database on postgres://postgres@127.0.0.1:5432,
//! dropped at the end). `BILL_TENANTS` (default 10000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use livemall::billing::gateway::manual::Manual;
use livemall::billing::run;
use livemall::db::{Access, Db};
use livemall::entities::{
    billing_items, installs, plans, plugin_prices, plugins, stores, subscriptions, tenants, usage_records,
};
use livemall::settings::Settings;
use sea_orm::{ConnectionTrait, Database, EntityTrait, Set};
use uuid::Uuid;

const CHUNK: usize = 400;

/// Peak resident set size in KiB since the last reset.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak to the current size (Linux: `5` into clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn insert_chunks<A, E>(db: &Db, rows: Vec<A>)
where
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        let txn = db.platform(Access::Write).await.unwrap();
        E::insert_many(chunk).exec_without_returning(&txn).await.unwrap();
        txn.commit().await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BILL_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let postgres = std::env::var("BILL_ENGINE").as_deref() == Ok("postgres");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let pg_name = format!("livemall_bill_{}", Uuid::new_v4().simple());
    if postgres {
        let admin = Database::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {pg_name}"))
            .await
            .unwrap();
        settings.database.url = format!("postgres://postgres@127.0.0.1:5432/{pg_name}");
    }
    let db = Db::connect(&settings).await.unwrap();
    db.migrate().await.unwrap();

    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let seeding = Instant::now();
    let plan_rows: Vec<plans::Model> = [("s", 1900, Some(1)), ("m", 4900, Some(3)), ("l", 9900, None)]
        .iter()
        .map(|(slug, price, stores)| plans::Model {
            id: Uuid::now_v7(),
            slug: slug.to_string(),
            name: slug.to_uppercase(),
            price: *price,
            currency: "EUR".into(),
            trial_days: 14,
            max_stores: *stores,
            max_installs: None,
            max_orders: None,
            max_plugin_calls: None,
            archived: false,
            created_at: start,
            updated_at: start,
        })
        .collect();
    insert_chunks(&db, plan_rows.iter().cloned().map(plans::ActiveModel::from).collect()).await;
    let plugin_ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    insert_chunks(
        &db,
        plugin_ids
            .iter()
            .enumerate()
            .map(|(i, id)| plugins::ActiveModel {
                id: Set(*id),
                slug: Set(format!("p{i}")),
                name: Set(format!("P{i}")),
                description: Set(String::new()),
                author: Set(format!("author{}", i % 2)),
                listed: Set(true),
                config_schema: Set(serde_json::json!({})),
                created_at: Set(start),
            })
            .collect(),
    )
    .await;
    insert_chunks(
        &db,
        plugin_ids
            .iter()
            .enumerate()
            .map(|(i, id)| plugin_prices::ActiveModel {
                plugin_id: Set(*id),
                monthly_price: Set(500 * i as i64),
                per_thousand_calls: Set(if i % 2 == 0 { 100 } else { 0 }),
                currency: Set("EUR".into()),
                updated_at: Set(start),
            })
            .collect(),
    )
    .await;

    let (mut t_rows, mut s_rows, mut sub_rows, mut i_rows, mut u_rows, mut b_rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let tenant = Uuid::now_v7();
        let store = Uuid::now_v7();
        t_rows.push(tenants::ActiveModel {
            id: Set(tenant),
            name: Set(format!("T{k}")),
            slug: Set(format!("t{k}")),
            status: Set("active".into()),
            created_at: Set(start),
            updated_at: Set(start),
        });
        s_rows.push(stores::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(store),
            name: Set("Main".into()),
            slug: Set("main".into()),
            currency: Set("EUR".into()),
            time_zone: Set("UTC".into()),
            status: Set("active".into()),
            created_at: Set(start),
            updated_at: Set(start),
        });
        let plan = &plan_rows[k % 3];
        let trial = k % 5 == 0;
        sub_rows.push(subscriptions::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan.id),
            period_plan_id: Set(plan.id),
            status: Set(if trial { "trialing" } else { "active" }.into()),
            period_start: Set(start),
            period_end: Set(if trial {
                start + Duration::days(14)
            } else {
                start + Duration::days(31)
            }),
            cancel_at_period_end: Set(k % 50 == 0),
            canceled_at: Set(None),
            past_due_since: Set(None),
            suspended_at: Set(None),
            gateway_customer: Set(None),
            payment_method: Set(None),
            created_at: Set(start),
            updated_at: Set(start),
        });
        for j in 0..(k % 3) {
            let install = Uuid::now_v7();
            i_rows.push(installs::ActiveModel {
                tenant_id: Set(tenant),
                id: Set(install),
                store_id: Set(store),
                plugin_id: Set(plugin_ids[(k + j) % 4]),
                version_id: Set(Uuid::nil()),
                enabled: Set(true),
                config: Set(serde_json::json!({})),
                priority: Set(100),
                breaker_open: Set(false),
                breaker_reason: Set(None),
                created_at: Set(start + Duration::hours((k % 200) as i64)),
                updated_at: Set(start),
                uninstalled_at: Set((j == 1).then(|| start + Duration::days(10))),
            });
            for d in 0..3 {
                u_rows.push(usage_records::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(Uuid::now_v7()),
                    metric: Set("plugin_calls".into()),
                    install_id: Set(Some(install)),
                    quantity: Set(((k * 37 + d * 11) % 5000) as i64 + 1),
                    occurred_at: Set(start + Duration::days(d as i64 + 1)),
                });
            }
        }
        if k % 10 == 1 {
            b_rows.push(billing_items::ActiveModel {
                tenant_id: Set(tenant),
                id: Set(Uuid::now_v7()),
                kind: Set("proration".into()),
                description: Set("Unused time".into()),
                amount: Set(-700),
                currency: Set("EUR".into()),
                plan_id: Set(Some(plan.id)),
                period_start: Set(start + Duration::days(9)),
                period_end: Set(start + Duration::days(31)),
                invoice_id: Set(None),
                created_at: Set(start + Duration::days(9)),
            });
        }
    }
    let counts = (i_rows.len(), u_rows.len(), b_rows.len());
    insert_chunks(&db, t_rows).await;
    insert_chunks(&db, s_rows).await;
    insert_chunks(&db, sub_rows).await;
    insert_chunks(&db, i_rows).await;
    insert_chunks(&db, u_rows).await;
    insert_chunks(&db, b_rows).await;
    println!(
        "seeded {n} tenants ({} installs, {} usage records, {} pending items) in {:.1} s",
        counts.0,
        counts.1,
        counts.2,
        seeding.elapsed().as_secs_f64()
    );

    let at = start + Duration::days(32);
    let before = peak_kib();
    reset_peak();
    let timer = Instant::now();
    let report = run::run(&db, &settings.billing, &Manual, at).await.unwrap();
    let took = timer.elapsed();
    let peak = peak_kib();
    let again = Instant::now();
    let second = run::run(&db, &settings.billing, &Manual, at).await.unwrap();
    println!(
        "| engine | tenants | invoices | run | per tenant | peak RSS during run | RSS before | rerun same instant |\n|---|---|---|---|---|---|---|---|\n| {} | {n} | {} | {:.2} s | {:.2} ms | {} MiB | {} MiB | {} new in {:.2} s |",
        if postgres { "postgres" } else { "sqlite" },
        report.invoiced,
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n as f64,
        peak / 1024,
        before / 1024,
        second.invoiced,
        again.elapsed().as_secs_f64(),
    );
    if postgres {
        drop(db);
        let admin = Database::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"))
            .await;
    }
}
