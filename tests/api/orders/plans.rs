//! PostgreSQL: the lookups every order's lines, adjustments and claims make
//! of their order at commit (foreign-key checks) are planned once per
//! connection and kept, often while `orders` is still empty. Then no index
//! but the primary key may serve them: one that leads with the tenant and
//! holds the id further on was taken as just as good, and read every index
//! entry of the tenant for each check.
//!
//! The same holds for the storefront's first statement, which also reads a
//! cart's variants (`tenancy::storefront::lookup`): by id through the
//! primary key, by SKU through the store's SKU index, whatever the
//! statistics.

use livemall::orders::cart::CartRequest;
use livemall::tenancy::storefront::{lookup, Asks};
use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{spawn_app, Engine};

#[tokio::test]
async fn an_orders_lookup_by_id_is_planned_on_the_primary_key_even_when_orders_is_empty() {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return;
    }
    let txn = app.db.connection().begin().await.unwrap();
    // The plan PostgreSQL keeps for a foreign-key check: generic, made
    // with no statistics and an empty table.
    txn.execute_unprepared(
        "SET LOCAL plan_cache_mode = force_generic_plan; \
         PREPARE lookup (uuid, uuid) AS \
           SELECT 1 FROM ONLY orders x WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE OF x",
    )
    .await
    .unwrap();
    let count = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM orders",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count.try_get_by_index::<i64>(0).unwrap(), 0);
    let plan = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "EXPLAIN EXECUTE lookup(gen_random_uuid(), gen_random_uuid())",
        ))
        .await
        .unwrap();
    let plan: Vec<String> = plan.iter().map(|row| row.try_get_by_index(0).unwrap()).collect();
    assert!(
        plan.iter().any(|line| line.contains("orders_pkey")),
        "the lookup takes the primary key: {plan:#?}"
    );
    txn.execute_unprepared("DEALLOCATE lookup").await.unwrap();
}

#[tokio::test]
async fn a_carts_variants_read_with_the_storefront_are_planned_on_their_keys() {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return;
    }
    let cases = [
        (json!({"variant_id": Uuid::now_v7(), "quantity": 1}), "variants_pkey"),
        (json!({"sku": "LAMP", "quantity": 1}), "variants_sku"),
    ];
    for (line, index) in cases {
        let cart: CartRequest = serde_json::from_value(json!({"lines": [line], "email": "a@example.com"})).unwrap();
        let asks = Asks {
            key: Some("key"),
            customer_id: None,
            email: Some("a@example.com"),
            cart: Some(&cart),
        };
        let (statement, joined) = lookup(DbBackend::Postgres, "mall", "main", &asks);
        assert!(joined, "a cart of one kind of line is read with the store");
        let args: Vec<String> = statement
            .values
            .iter()
            .flat_map(|values| values.0.iter())
            .map(|value| PostgresQueryBuilder.value_to_string(value))
            .collect();
        let txn = app.db.connection().begin().await.unwrap();
        // A generic plan, made with no statistics and empty tables.
        txn.execute_unprepared(&format!(
            "SET LOCAL plan_cache_mode = force_generic_plan; PREPARE storefront AS {}",
            statement.sql
        ))
        .await
        .unwrap();
        let plan = txn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("EXPLAIN EXECUTE storefront({})", args.join(", ")),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = plan.iter().map(|row| row.try_get_by_index(0).unwrap()).collect();
        assert!(
            plan.iter()
                .any(|line| line.contains(&format!("using {index} on variants"))),
            "the cart's variants are read through {index}: {plan:#?}"
        );
        assert!(
            !plan.iter().any(|line| line.contains("Seq Scan on variants")),
            "no variant is read but the cart's: {plan:#?}"
        );
        txn.execute_unprepared("DEALLOCATE storefront").await.unwrap();
    }
}
