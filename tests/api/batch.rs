//! PostgreSQL: statements in one round trip as the parts of one statement
//! (`livemall::db::batch::Chain`), sent as text with their values written
//! in (`livemall::db::script`); SQLite's batch has unit tests of its own.

use livemall::db::batch::Chain;
use livemall::db::script::{refused, send};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::Postgres;
use sea_orm::Value;

use crate::helpers::{spawn_app, Engine, TestApp};

/// PostgreSQL only: a connection of its own (closed, not pooled, at the
/// end) with table `t` holding rows 1 and 2 at 5 each (`n` may not go
/// below zero).
async fn two_fives() -> Option<(TestApp, PoolConnection<Postgres>)> {
    let app = spawn_app().await;
    if app.engine != Engine::Postgres {
        return None;
    }
    let mut conn = app
        .db
        .connection()
        .get_postgres_connection_pool()
        .acquire()
        .await
        .unwrap();
    conn.close_on_drop();
    send(
        &mut conn,
        "CREATE TEMP TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL CHECK (n >= 0)); \
         INSERT INTO t VALUES (1, 5), (2, 5)"
            .into(),
    )
    .await
    .unwrap();
    Some((app, conn))
}

async fn left(conn: &mut PoolConnection<Postgres>) -> (i64, i64) {
    let steps = send(conn, "SELECT id, n FROM t ORDER BY id".into()).await.unwrap();
    let n = |id| steps.row(id).map(|row| row.try_get_by_index::<i64>(1).unwrap());
    (n(1).unwrap(), n(2).unwrap())
}

/// A part taking `n` from row `id` unless that would go below zero,
/// answered as `step` with what is left.
fn take(chain: &mut Chain, step: i64, id: i64, n: i64) -> String {
    let part = chain.push_sql(
        "UPDATE t SET n = n - ? WHERE id = ? AND n >= ? RETURNING n",
        [n.into(), id.into(), n.into()],
    );
    chain.answer(&format!("SELECT {step}::int8, n FROM {part}"), []);
    part
}

#[tokio::test]
async fn a_chain_runs_every_part_and_answers_the_steps_of_the_parts_that_wrote() {
    let Some((_app, mut conn)) = two_fives().await else {
        return;
    };
    let mut chain = Chain::new();
    let first = take(&mut chain, 1, 1, 3);
    take(&mut chain, 2, 2, 9);
    // A part that reads what an earlier part returned, answering nothing.
    chain.push_sql(
        &format!("UPDATE t SET n = n + (SELECT n FROM {first}) WHERE id = ?"),
        [2i64.into()],
    );
    let steps = send(&mut conn, chain.script().unwrap()).await.unwrap();

    let after_first = steps.row(1).map(|row| row.try_get_by_index::<i64>(1).unwrap());
    assert_eq!(after_first, Some(2), "the first part took 3 of 5");
    assert_eq!(steps.steps(), vec![1], "the second asked for 9 of 5 and wrote nothing");
    assert_eq!(left(&mut conn).await, (2, 7));
}

#[tokio::test]
async fn a_failing_part_fails_the_whole_statement() {
    let Some((_app, mut conn)) = two_fives().await else {
        return;
    };
    let mut chain = Chain::new();
    chain.push_sql("UPDATE t SET n = n - 1 WHERE id = ?", [1i64.into()]);
    chain.push_sql("UPDATE t SET n = -1 WHERE id = ?", [2i64.into()]);
    let text = format!("BEGIN; {}; COMMIT", chain.script().unwrap());
    let err = send(&mut conn, text).await.expect_err("the CHECK refuses a negative n");
    assert_eq!(refused(&err), None, "a failure, not a refusal");
    send(&mut conn, "ROLLBACK".into()).await.unwrap();
    assert_eq!(left(&mut conn).await, (5, 5), "no part's write is left");
}

#[tokio::test]
async fn all_or_nothing_a_part_that_wrote_nothing_fails_the_statement_naming_the_parts_that_did() {
    let Some((_app, mut conn)) = two_fives().await else {
        return;
    };
    let mut chain = Chain::new();
    take(&mut chain, 1, 1, 3);
    take(&mut chain, 2, 2, 9);
    take(&mut chain, 3, 2, 1);
    let text = format!("BEGIN; {}; COMMIT", chain.script_all_or_nothing().unwrap());
    let err = send(&mut conn, text).await.expect_err("9 of 5 cannot be taken");
    assert_eq!(refused(&err), Some(vec![1, 3]));
    // The COMMIT was skipped: the transaction is still open, and failed.
    send(&mut conn, "ROLLBACK".into()).await.unwrap();
    assert_eq!(left(&mut conn).await, (5, 5), "the parts that took are undone");

    let mut chain = Chain::new();
    take(&mut chain, 1, 1, 3);
    take(&mut chain, 2, 2, 5);
    let text = format!("BEGIN; {}; COMMIT", chain.script_all_or_nothing().unwrap());
    let steps = send(&mut conn, text).await.unwrap();
    assert_eq!(steps.steps(), vec![1, 2]);
    assert_eq!(left(&mut conn).await, (2, 0), "committed");
}

#[tokio::test]
async fn values_written_in_as_literals_arrive_as_sent() {
    let Some((_app, mut conn)) = two_fives().await else {
        return;
    };
    let texts = [
        "it's",
        r"back\slash",
        r"\'; DROP TABLE t; --",
        "'); DROP TABLE t; --",
        "$$ dollar $tag$",
        "E'not an escape'",
        "line\nbreak\ttab\r",
        "🛒 ünïcödé ?",
        "",
    ];
    let mut chain = Chain::new();
    for (i, text) in texts.iter().enumerate() {
        let step = i64::try_from(i).unwrap();
        chain.answer("SELECT CAST(? AS int8), ?", [step.into(), (*text).into()]);
    }
    let steps = send(&mut conn, chain.script().unwrap()).await.unwrap();
    for (i, text) in texts.iter().enumerate() {
        let row = steps.row(i64::try_from(i).unwrap()).unwrap();
        assert_eq!(row.try_get_by_index::<String>(1).unwrap(), *text);
    }

    let json = serde_json::json!({"quote": "it's", "slash": "a\\b", "unicode": "ünï", "n": [1, 2.5, null]});
    let at = chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
    let id = uuid::Uuid::now_v7();
    let mut chain = Chain::new();
    chain.answer(
        "SELECT CAST(1 AS int8), ?, ?, ?, ?, ?, ?",
        [
            json.clone().into(),
            at.into(),
            id.into(),
            Value::String(None),
            true.into(),
            i32::MIN.into(),
        ],
    );
    let steps = send(&mut conn, chain.script().unwrap()).await.unwrap();
    let row = steps.row(1).unwrap();
    assert_eq!(row.try_get_by_index::<serde_json::Value>(1).unwrap(), json);
    assert_eq!(row.try_get_by_index::<chrono::DateTime<chrono::Utc>>(2).unwrap(), at);
    assert_eq!(row.try_get_by_index::<uuid::Uuid>(3).unwrap(), id);
    assert_eq!(row.try_get_by_index::<Option<String>>(4).unwrap(), None);
    assert!(row.try_get_by_index::<bool>(5).unwrap());
    assert_eq!(row.try_get_by_index::<i32>(6).unwrap(), i32::MIN);
    assert_eq!(left(&mut conn).await, (5, 5), "no text ended its literal early");
}
