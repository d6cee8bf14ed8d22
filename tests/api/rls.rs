//! Row-level security on PostgreSQL: the wall behind the tenant scope.

use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

use crate::helpers::{spawn_app, Engine, TestApp};

#[tokio::test]
async fn without_the_tenant_setting_the_app_role_sees_no_rows() {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return; // SQLite has no row-level security; the tenant scope is the only wall there.
    }
    let a = app.signup("ann@example.com", "Ann").await;
    let b = app.signup("bob@example.com", "Bob").await;
    app.create_store(&a.token, "A", "a").await;
    app.create_store(&b.token, "B", "b").await;

    let conn = app.db.connection();
    let count = |sql: &'static str| Statement::from_string(sea_orm::DbBackend::Postgres, sql);
    let txn = conn.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE livemall_app").await.unwrap();
    let row = txn
        .query_one_raw(count("SELECT count(*)::bigint AS n FROM stores"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "no tenant set: no rows");
    let users = txn
        .query_one_raw(count("SELECT count(*)::bigint AS n FROM users"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(users.try_get::<i64>("", "n").unwrap(), 0);
    txn.rollback().await.unwrap();

    // With tenant A set, an unfiltered query sees exactly A's store.
    let txn = app.db.tenant(a.tenant_id, livemall::db::Access::Read).await.unwrap();
    let row = txn
        .query_one_raw(count("SELECT count(*)::bigint AS n FROM stores"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
    let slug = txn
        .query_one_raw(count("SELECT slug FROM stores"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(slug.try_get::<String>("", "slug").unwrap(), "a");

    // Writing a row for another tenant is refused by the policy.
    let insert = txn
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO stores (tenant_id, id, name, slug, currency, time_zone, status, created_at, updated_at)
             VALUES ($1, $2, 'x', 'x', 'EUR', 'UTC', 'active', now(), now())",
            [b.tenant_id.into(), uuid::Uuid::now_v7().into()],
        ))
        .await;
    assert!(insert.is_err(), "row-level security refuses another tenant's row");
}

#[tokio::test]
async fn catalog_tables_see_no_rows_without_the_tenant_setting() {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return; // SQLite has no row-level security.
    }
    let a = app.signup("ann@example.com", "Ann").await;
    let store = app.create_store(&a.token, "A", "a").await;
    let store_path = format!("/api/v1/stores/{}", store["id"].as_str().unwrap());
    let product = app
        .post(
            &format!("{store_path}/products"),
            &a.token,
            serde_json::json!({"title": "Lamp", "tags": ["x"], "variants": [{"sku": "L", "price": 1}]}),
        )
        .await;
    let collection = app
        .post(
            &format!("{store_path}/collections"),
            &a.token,
            serde_json::json!({"title": "C"}),
        )
        .await;
    app.put(
        &format!(
            "{store_path}/collections/{}/products",
            collection.body["id"].as_str().unwrap()
        ),
        &a.token,
        serde_json::json!({"product_ids": [product.body["id"]]}),
    )
    .await;

    let tables = [
        "products",
        "product_tags",
        "variants",
        "collections",
        "collection_products",
    ];
    assert_no_rows_without_tenant(&app, &tables).await;
    let txn = app.db.tenant(a.tenant_id, livemall::db::Access::Read).await.unwrap();
    for table in tables {
        assert_eq!(rows_in(&*txn, table).await, 1, "{table}: the tenant's own row");
    }
}

/// Rows of `table` the transaction can see.
async fn rows_in(txn: &impl ConnectionTrait, table: &str) -> i64 {
    let sql = format!("SELECT count(*)::bigint AS n FROM {table}");
    let row = txn
        .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The application role with no tenant set sees nothing in any of `tables`.
async fn assert_no_rows_without_tenant(app: &crate::helpers::TestApp, tables: &[&str]) {
    let txn = app.db.connection().begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE livemall_app").await.unwrap();
    for table in tables {
        assert_eq!(rows_in(&txn, table).await, 0, "{table}: no tenant set, no rows");
    }
    txn.rollback().await.unwrap();
}

#[tokio::test]
async fn install_tables_see_only_the_tenants_own_rows() {
    let m = crate::marketplace::Market::open().await;
    if m.app.engine != Engine::Postgres {
        return; // SQLite has no row-level security.
    }
    m.install("hello", serde_json::json!({})).await;
    let active = m.active().await.remove(0);
    m.record(&active, &std::fs::read("examples/wat-plugin/discount.wasm").unwrap())
        .await;
    let b = m.app.signup("bob@example.com", "Bob").await;

    let tables = ["installs", "install_calls"];
    assert_no_rows_without_tenant(&m.app, &tables).await;
    for (tenant, expected) in [(m.t.tenant_id, 1), (b.tenant_id, 0)] {
        let txn = m.app.db.tenant(tenant, livemall::db::Access::Read).await.unwrap();
        for table in tables {
            assert_eq!(rows_in(&*txn, table).await, expected, "{table} for {tenant}");
        }
    }

    // Tenant B cannot write a call onto A's install, nor change A's install.
    let txn = m.app.db.tenant(b.tenant_id, livemall::db::Access::Write).await.unwrap();
    let insert = txn
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO install_calls (tenant_id, id, install_id, version_id, hook, outcome, fuel, duration_us, peak_memory, created_at)
             VALUES ($1, $2, $3, $4, 'cart.price', 'ok', 0, 0, 0, now())",
            [
                m.t.tenant_id.into(),
                uuid::Uuid::now_v7().into(),
                active.install_id.into(),
                active.version_id.into(),
            ],
        ))
        .await;
    assert!(insert.is_err(), "row-level security refuses another tenant's row");
    drop(txn);
    let txn = m.app.db.tenant(b.tenant_id, livemall::db::Access::Write).await.unwrap();
    let update = txn
        .execute_unprepared("UPDATE installs SET enabled = false")
        .await
        .unwrap();
    assert_eq!(update.rows_affected(), 0);
}

/// Each table shows the app role no row without a tenant set, and exactly
/// the tenant's one row with it.
async fn assert_confined(app: &TestApp, tenant_id: uuid::Uuid, tables: &[&str]) {
    assert_no_rows_without_tenant(app, tables).await;
    let txn = app.db.tenant(tenant_id, livemall::db::Access::Read).await.unwrap();
    for table in tables {
        assert_eq!(rows_in(&*txn, table).await, 1, "{table}: the tenant's own row");
    }
}

#[tokio::test]
async fn order_tables_see_no_rows_without_the_tenant_setting() {
    let mall = crate::orders::Mall::open(10, 10).await;
    if mall.shop.app.engine != Engine::Postgres {
        return; // SQLite has no row-level security.
    }
    mall.install("claim_promo", "promo", serde_json::json!({}), 10).await;
    let order = mall.order_lamps(1).await;
    assert_eq!(order["adjustments"][0]["label"], "Promo");
    let customers = mall.shop.path("/customers");
    let body = serde_json::json!({"email": "cara@example.com"});
    mall.shop.app.post(&customers, &mall.shop.t.token, body).await;

    let tables = [
        "customers",
        "order_numbers",
        "orders",
        "order_lines",
        "order_adjustments",
        "order_claims",
        "plugin_counters",
        "outbox_events",
    ];
    assert_confined(&mall.shop.app, mall.shop.t.tenant_id, &tables).await;
}

#[tokio::test]
async fn the_storefront_transaction_is_confined_to_the_tenant_its_first_statement_found() {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return; // SQLite has no row-level security.
    }
    let a = app.signup("ann@example.com", "Ann").await;
    let b = app.signup("bob@example.com", "Bob").await;
    app.create_store(&a.token, "A", "a").await;
    app.create_store(&b.token, "B", "b").await;

    let found = livemall::tenancy::storefront::open(&app.state, &b.tenant_slug, "b")
        .await
        .unwrap();
    assert_eq!(found.txn.tenant_id(), b.tenant_id);
    assert_eq!(rows_in(&*found.txn, "stores").await, 1, "only the found tenant's store");
    let role = found
        .txn
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_user::text AS role",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.try_get::<String>("", "role").unwrap(), livemall::db::APP_ROLE);

    let missing = livemall::tenancy::storefront::open(&app.state, &a.tenant_slug, "b").await;
    assert!(missing.is_err(), "A has no store `b`");
}
