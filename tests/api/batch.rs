//! PostgreSQL: statements in one round trip as the parts of one statement
//! (`livemall::db::batch::Chain`); SQLite's batch has unit tests of its own.

use livemall::db::batch::Chain;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};

use crate::helpers::{spawn_app, Engine, TestApp};

/// PostgreSQL only: a transaction with table `t` holding rows 1 and 2 at
/// 5 each (`n` may not go below zero).
async fn two_fives() -> Option<(TestApp, DatabaseTransaction)> {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return None;
    }
    let txn = app.db.connection().begin().await.unwrap();
    txn.execute_unprepared(
        "CREATE TEMP TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL CHECK (n >= 0)) ON COMMIT DROP; \
         INSERT INTO t VALUES (1, 5), (2, 5)",
    )
    .await
    .unwrap();
    Some((app, txn))
}

async fn left(txn: &DatabaseTransaction, id: i64) -> i64 {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT n FROM t WHERE id = $1",
            [id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn a_chain_runs_every_part_and_answers_the_steps_of_the_parts_that_wrote() {
    let Some((_app, txn)) = two_fives().await else {
        return;
    };
    let mut chain = Chain::new();
    let take = "UPDATE t SET n = n - ? WHERE id = ? AND n >= ? RETURNING n";
    let first = chain.push_sql(take, [3i64.into(), 1i64.into(), 3i64.into()]);
    chain.answer(&format!("SELECT 1::int8, n FROM {first}"), []);
    let second = chain.push_sql(take, [9i64.into(), 2i64.into(), 9i64.into()]);
    chain.answer(&format!("SELECT 2::int8, n FROM {second}"), []);
    // A part that reads what an earlier part returned, answering nothing.
    chain.push_sql(
        &format!("UPDATE t SET n = n + (SELECT n FROM {first}) WHERE id = ?"),
        [2i64.into()],
    );
    let steps = chain.run(&txn).await.unwrap();

    let after_first = steps.row(1).map(|row| row.try_get_by_index::<i64>(1).unwrap());
    assert_eq!(after_first, Some(2), "the first part took 3 of 5");
    assert!(!steps.answered(2), "the second asked for 9 of 5 and wrote nothing");
    assert_eq!((left(&txn, 1).await, left(&txn, 2).await), (2, 7));
}

#[tokio::test]
async fn a_failing_part_fails_the_whole_statement() {
    let Some((_app, txn)) = two_fives().await else {
        return;
    };
    txn.execute_unprepared("SAVEPOINT before").await.unwrap();
    let mut chain = Chain::new();
    chain.push_sql("UPDATE t SET n = n - 1 WHERE id = ?", [1i64.into()]);
    chain.push_sql("UPDATE t SET n = -1 WHERE id = ?", [2i64.into()]);
    assert!(chain.run(&txn).await.is_err(), "the CHECK refuses a negative n");
    txn.execute_unprepared("ROLLBACK TO SAVEPOINT before").await.unwrap();
    assert_eq!(
        (left(&txn, 1).await, left(&txn, 2).await),
        (5, 5),
        "no part's write is left"
    );
}
