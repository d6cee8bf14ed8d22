//! SQLite: the writer's own connection, driven by a thread of its own.
//!
//! Through the driver every statement is a hand-off: the task sends it to
//! the connection's worker thread, which runs it and wakes the task again.
//! A write transaction of three statements (`BEGIN`, one batch, `COMMIT`)
//! was six such wake-ups while every other writer waited, and those, not
//! SQLite's work, bounded how many could commit a second. Here a write is
//! one part ([`WriterThread::part`]): the thread runs it on its connection
//! from start to end with no wake-up between statements, and the only
//! hand-offs are the part in and its answer out, in this process's turn at
//! writing (see [`super::Db`]'s queue).
//!
//! Parts that queued together share one transaction (group commit): each
//! runs in a savepoint of its own, so one
//! that undoes its writes undoes only them, and all are answered after the
//! one `COMMIT`. A commit writes every page it changed to the WAL whole,
//! and the pages every checkout changes (a hot variant's, the store's order
//! number, the indexes' upper levels) are then written once per group
//! instead of once per checkout.
//!
//! The connection is plain SQLite (the same library the driver links),
//! with the pool's pragmas; statements are prepared once and kept. Values
//! are bound as the driver binds them (see [`bind`]), so a row written here
//! reads back through the pool exactly as one written there.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags};
use sea_orm::{DbErr, Value};
use tokio::sync::{oneshot, Mutex};

use super::batch::{Batch, Steps};
use super::checkpoint::Checkpointer;

/// A part of a transaction, queued for the writer's thread.
type Job = Box<dyn Part>;

/// What a part did in its savepoint.
pub enum Ended<T> {
    /// Keep its writes; answered once the group committed.
    Keep(T),
    /// Undo its writes (back to its savepoint); answered with the group.
    Undo(T),
}

/// A part as the thread sees it, whatever it answers.
trait Part: Send {
    /// Runs the part inside the group's transaction; true keeps its writes.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: `committed` is the group's commit, or why the
    /// part never ran or its writes were lost.
    fn settle(self: Box<Self>, committed: Result<(), String>);
}

/// A part with its caller's answer.
struct Pending<T, F> {
    work: Option<F>,
    ended: Option<Ended<T>>,
    answer: oneshot::Sender<Result<T, DbErr>>,
    deadline: Instant,
    late: bool,
}

impl<T, F> Part for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Ended<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        if Instant::now() > self.deadline {
            self.late = true;
            return false;
        }
        let Some(work) = self.work.take() else { return false };
        let ended = work(conn);
        let keep = matches!(ended, Ended::Keep(_));
        self.ended = Some(ended);
        keep
    }

    fn settle(self: Box<Self>, committed: Result<(), String>) {
        let answer = match (self.late, self.ended, committed) {
            (true, _, _) => Err(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)),
            (false, _, Err(why)) => Err(DbErr::Custom(format!("the writer's transaction did not commit: {why}"))),
            (false, Some(Ended::Keep(t) | Ended::Undo(t)), Ok(())) => Ok(t),
            (false, None, Ok(())) => Err(DbErr::Custom("a part on the writer's connection panicked".into())),
        };
        let _ = self.answer.send(answer);
    }
}

/// Prepared statements kept per connection: a checkout's batch is about a
/// dozen, varying with its lines and claims.
const PREPARED: usize = 256;

/// Parts in one transaction at most: a checkout waits for the commit of
/// every part before and after it in its group.
const GROUP: usize = 128;

/// The writer's thread: runs jobs in arrival order, each given the
/// connection while this process holds its turn at writing (`turn`, shared
/// with transactions through the driver's writer connection). The thread
/// ends when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct WriterThread {
    jobs: mpsc::Sender<Job>,
    wait: Duration,
}

impl WriterThread {
    /// Opens the database file at `path` and starts the thread. A job that
    /// could not start within `wait` of being sent is not run.
    pub fn start(path: PathBuf, turn: Arc<Mutex<()>>, wait: Duration) -> anyhow::Result<WriterThread> {
        let conn = open(&path)?;
        let checkpointer = Checkpointer::start(&path, Arc::clone(&turn))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("livemall-writer".into())
            .spawn(move || serve(conn, &queue, &turn, &checkpointer))?;
        Ok(WriterThread { jobs, wait })
    }

    /// Runs `part` inside a transaction shared with the parts queued next
    /// to it, in a savepoint of its own, and answers what it ended with once
    /// that transaction committed. A part must leave nothing that fails
    /// only at the commit (a deferred foreign key): a commit that fails
    /// fails every part of the group, and those that kept their writes lost
    /// them. `ConnectionAcquire(Timeout)` when it could not start in time.
    pub async fn part<T: Send + 'static>(
        &self,
        part: impl FnOnce(&Connection) -> Ended<T> + Send + 'static,
    ) -> Result<T, DbErr> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(Pending {
            work: Some(part),
            ended: None,
            answer,
            deadline: Instant::now() + self.wait,
            late: false,
        });
        self.jobs
            .send(job)
            .map_err(|_| DbErr::Custom("the writer's thread has stopped".into()))?;
        answered
            .await
            .map_err(|_| DbErr::Custom("the writer's part ended without an answer".into()))?
    }
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // A part's savepoint keeps the pages it changes in memory, not in a file;
    // the WAL is copied back by the checkpointer's thread, not in a commit.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.set_prepared_statement_cache_capacity(PREPARED);
    Ok(conn)
}

/// The thread: waits for a part, takes the turn, runs it in one group with
/// every part queued meanwhile (at most [`GROUP`]), gives the turn back and
/// nudges the checkpointer. The turn is taken for each group, so that a
/// transaction through the driver or a checkpoint's restart that waits for
/// it goes next even while parts keep arriving.
fn serve(conn: Connection, queue: &mpsc::Receiver<Job>, turn: &Mutex<()>, checkpointer: &Checkpointer) {
    while let Ok(first) = queue.recv() {
        let held = turn.blocking_lock();
        let mut parts = vec![first];
        while parts.len() < GROUP {
            match queue.try_recv() {
                Ok(part) => parts.push(part),
                Err(_) => break,
            }
        }
        group(&conn, parts);
        drop(held);
        checkpointer.nudge();
    }
}

/// Runs parts in one transaction, each in a savepoint, and answers them
/// after the commit. A part that panics is undone alone. When a savepoint
/// cannot be opened or ended, or the transaction itself is gone (an error
/// SQLite answers by rolling back), no later part runs, none outside the
/// transaction, and every part of the group is told it did not commit.
fn group(conn: &Connection, parts: Vec<Box<dyn Part>>) {
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        for part in parts {
            part.settle(Err(error.to_string()));
        }
        return;
    }
    let mut ran = Vec::with_capacity(parts.len());
    let mut lost = None;
    for mut part in parts {
        if lost.is_none() && conn.is_autocommit() {
            lost = Some("the transaction ended before its commit".to_string());
        }
        if lost.is_none() {
            if let Err(error) = in_savepoint(conn, part.as_mut()) {
                lost = Some(error.to_string());
            }
        }
        ran.push(part);
    }
    let committed = match lost {
        Some(why) => Err(why),
        None => conn.execute_batch("COMMIT").map_err(|e| e.to_string()),
    };
    if committed.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for part in ran {
        part.settle(committed.clone());
    }
}

/// One part in a savepoint: released when it keeps its writes, rolled
/// back to when it does not (or panicked).
fn in_savepoint(conn: &Connection, part: &mut dyn Part) -> rusqlite::Result<()> {
    conn.prepare_cached("SAVEPOINT part")?.execute([])?;
    let keep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| part.run(conn))).unwrap_or_else(|_| {
        tracing::error!("a part on the writer's connection panicked");
        false
    });
    if !keep {
        conn.prepare_cached("ROLLBACK TO part")?.execute([])?;
    }
    conn.prepare_cached("RELEASE part")?.execute([])?;
    Ok(())
}

/// A batch with its values already bound as SQLite's (see [`bind`]), so
/// that the writer's turn, which every other checkout waits for, only runs
/// its statements: the JSON written out, the times formatted and the
/// strings moved before it, on the request's thread.
pub struct Bound(Vec<(String, Vec<Sql>)>);

impl Bound {
    pub fn of(batch: Batch) -> rusqlite::Result<Bound> {
        let mut bound = Vec::new();
        for (sql, values) in batch.into_statements() {
            bound.push((sql, values.into_iter().map(bind).collect::<rusqlite::Result<_>>()?));
        }
        Ok(Bound(bound))
    }
}

/// Runs a batch's statements in order on `conn`; answers the rows whose
/// first column is a step (see [`super::batch`]), each with its values.
pub fn run_batch(conn: &Connection, batch: &Bound) -> rusqlite::Result<Steps<Vec<Sql>>> {
    let mut answered = Vec::new();
    for (sql, values) in &batch.0 {
        let mut statement = conn.prepare_cached(sql)?;
        if statement.parameter_count() != values.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                statement.parameter_count(),
            ));
        }
        for (i, value) in values.iter().enumerate() {
            statement.raw_bind_parameter(i + 1, value)?;
        }
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            let step: i64 = row.get(0)?;
            let mut values = Vec::with_capacity(columns.saturating_sub(1));
            for c in 1..columns {
                values.push(row.get::<_, Sql>(c)?);
            }
            answered.push((step, values));
        }
    }
    Ok(Steps::from_rows(answered))
}

/// A value as the driver binds it on SQLite: UUIDs as their 16 bytes,
/// times as RFC 3339 text (UTC ones with `+00:00`), JSON as its text,
/// booleans as 0 or 1.
pub fn bind(value: Value) -> rusqlite::Result<Sql> {
    let unsupported = |value: &dyn std::fmt::Debug| {
        rusqlite::Error::ToSqlConversionFailure(format!("no SQLite binding for {value:?}").into())
    };
    Ok(match value {
        Value::Bool(v) => v.map_or(Sql::Null, |v| Sql::Integer(i64::from(v))),
        Value::TinyInt(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::SmallInt(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::Int(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::BigInt(v) => v.map_or(Sql::Null, Sql::Integer),
        Value::TinyUnsigned(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::SmallUnsigned(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::Unsigned(v) => v.map_or(Sql::Null, |v| Sql::Integer(v.into())),
        Value::BigUnsigned(v) => match v {
            Some(v) => Sql::Integer(i64::try_from(v).map_err(|_| unsupported(&v))?),
            None => Sql::Null,
        },
        Value::Float(v) => v.map_or(Sql::Null, |v| Sql::Real(v.into())),
        Value::Double(v) => v.map_or(Sql::Null, Sql::Real),
        Value::String(v) => v.map_or(Sql::Null, Sql::Text),
        Value::Char(v) => v.map_or(Sql::Null, |v| Sql::Text(v.to_string())),
        Value::Enum(v) => match v {
            sea_orm::sea_query::OptionEnum::Some(v) => Sql::Text(v.value.to_string()),
            sea_orm::sea_query::OptionEnum::None(_) => Sql::Null,
        },
        Value::Bytes(v) => v.map_or(Sql::Null, Sql::Blob),
        Value::Uuid(v) => v.map_or(Sql::Null, |v| Sql::Blob(v.as_bytes().to_vec())),
        Value::Json(v) => match v {
            Some(v) => {
                Sql::Text(serde_json::to_string(&v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?)
            }
            None => Sql::Null,
        },
        Value::ChronoDateTimeUtc(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTimeWithTimeZone(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTimeLocal(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTime(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%F %T%.f").to_string())),
        Value::ChronoDate(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%F").to_string())),
        Value::ChronoTime(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%T%.f").to_string())),
        other => return Err(unsupported(&other)),
    })
}

fn rfc3339<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement, Value};
    use tokio::sync::Mutex;

    use super::{run_batch, Bound, Ended, WriterThread};
    use crate::db::batch::Batch;

    /// Every kind of value the application binds, one per column.
    fn values() -> Vec<Value> {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 5).unwrap() + chrono::Duration::microseconds(120);
        vec![
            Value::Bool(Some(true)),
            Value::Int(Some(-7)),
            Value::BigInt(Some(1 << 40)),
            Value::Unsigned(Some(7)),
            Value::Double(Some(2.5)),
            Value::String(Some("café 'quoted'".into())),
            Value::Bytes(Some(vec![0, 1, 255])),
            Value::Uuid(Some(uuid::Uuid::from_u128(0x0196_2a1b_7c3d_7e4f_8a5b_6c7d_8e9f_a0b1))),
            Value::Json(Some(Box::new(serde_json::json!({"a": [1, "b"], "z": null})))),
            Value::ChronoDateTimeUtc(Some(at)),
            Value::ChronoDateTimeWithTimeZone(Some(at.with_timezone(&FixedOffset::east_opt(3600).unwrap()))),
            Value::ChronoDate(Some(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap())),
            Value::BigInt(None),
        ]
    }

    #[tokio::test]
    async fn a_row_written_here_is_the_row_the_driver_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
        options.max_connections(1).sqlx_logging(false);
        let pool = Database::connect(options).await.unwrap();
        let columns: Vec<String> = (0..values().len()).map(|i| format!("c{i}")).collect();
        pool.execute_unprepared(&format!("CREATE TABLE t (via TEXT, {})", columns.join(", ")))
            .await
            .unwrap();
        let insert = format!("INSERT INTO t VALUES (?, {})", vec!["?"; columns.len()].join(", "));
        let mut by_driver = vec![Value::from("driver")];
        by_driver.extend(values());
        pool.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, &insert, by_driver))
            .await
            .unwrap();

        let writer = WriterThread::start(path, Arc::new(Mutex::new(())), Duration::from_secs(5)).unwrap();
        writer
            .part(move |conn| {
                let mut batch = Batch::new();
                let mut here = vec![Value::from("writer")];
                here.extend(values());
                batch.push_sql(&insert, here);
                Ended::Keep(run_batch(conn, &Bound::of(batch).unwrap()).map(|_| ()))
            })
            .await
            .unwrap()
            .unwrap();

        let quoted: Vec<String> = columns
            .iter()
            .map(|c| format!("typeof({c}) || ':' || quote({c})"))
            .collect();
        let rows = pool
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("SELECT {} FROM t ORDER BY via", quoted.join(", ")),
            ))
            .await
            .unwrap();
        let read = |i: usize| -> Vec<String> {
            (0..columns.len())
                .map(|c| rows[i].try_get_by_index::<String>(c).unwrap())
                .collect()
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(
            read(1),
            read(0),
            "writer's row (second) differs from the driver's (first)"
        );
        assert!(read(0)[7].starts_with("blob:"), "a UUID is its bytes: {}", read(0)[7]);
    }

    /// A writer on a new database file (kept while the directory lives).
    fn fresh_writer() -> (tempfile::TempDir, WriterThread) {
        let dir = tempfile::tempdir().unwrap();
        let writer = WriterThread::start(
            dir.path().join("t.db"),
            Arc::new(Mutex::new(())),
            Duration::from_secs(5),
        );
        (dir, writer.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_waiting_for_the_turn_goes_between_groups_while_parts_keep_arriving() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let turn = Arc::new(Mutex::new(()));
        let writer = WriterThread::start(path.clone(), Arc::clone(&turn), Duration::from_secs(5)).unwrap();
        writer
            .part(|conn| Ended::Keep(conn.execute_batch("CREATE TABLE t (n INTEGER)")))
            .await
            .unwrap()
            .unwrap();
        // A part that holds its group until the test lets it go, with 20
        // more queued behind it and a transaction through the driver
        // waiting for the turn.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .part(move |_| {
                        wait.recv().unwrap();
                        Ended::Keep(())
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued: Vec<_> = (0..20)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .part(move |conn| Ended::Keep(conn.execute("INSERT INTO t VALUES (?)", [n]).map(|_| ())))
                        .await
                })
            })
            .collect();
        let driver = tokio::spawn({
            let turn = Arc::clone(&turn);
            async move {
                let _turn = turn.lock().await;
                let reader = rusqlite::Connection::open(&path).unwrap();
                reader
                    .query_row("SELECT count(*) FROM t", [], |row| row.get::<_, i64>(0))
                    .unwrap()
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        go.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(
            driver.await.unwrap(),
            0,
            "the driver's turn came before the queued parts"
        );
        for part in queued {
            part.await.unwrap().unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn steps_answer_with_their_values_and_statements_run_in_order() {
        let (_dir, writer) = fresh_writer();
        let steps = writer
            .part(|conn| {
                conn.execute_batch(
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO t VALUES (1, 5)",
                )
                .unwrap();
                let mut batch = Batch::new();
                for (step, take) in [(1i64, 3i64), (2, 3), (3, 2)] {
                    batch.push_sql(
                        &format!("UPDATE t SET n = n - ? WHERE id = 1 AND n >= ? RETURNING {step}, n"),
                        [take.into(), take.into()],
                    );
                }
                Ended::Keep(run_batch(conn, &Bound::of(batch).unwrap()))
            })
            .await
            .unwrap()
            .unwrap();
        assert!(steps.answered(1) && !steps.answered(2) && steps.answered(3));
        assert_eq!(steps.row(3), Some(&vec![rusqlite::types::Value::Integer(0)]));
    }

    #[tokio::test]
    async fn a_part_that_panics_ends_alone_and_the_next_one_runs() {
        let (_dir, writer) = fresh_writer();
        writer
            .part(|conn| Ended::Keep(conn.execute_batch("CREATE TABLE t (n INTEGER)")))
            .await
            .unwrap()
            .unwrap();
        let failed = writer
            .part(|conn| -> Ended<()> {
                conn.execute_batch("INSERT INTO t VALUES (1)").unwrap();
                panic!("a bug in a part");
            })
            .await;
        assert!(matches!(failed, Err(sea_orm::DbErr::Custom(_))), "{failed:?}");
        let rows: i64 = writer
            .part(|conn| Ended::Keep(conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows, 0, "the panicking part's insert was rolled back");
    }

    /// A writer whose turn the test holds, so that parts sent meanwhile
    /// queue and then run as one group; `setup` runs first, alone.
    async fn held_writer(setup: &'static str) -> (tempfile::TempDir, WriterThread, Arc<Mutex<()>>) {
        let dir = tempfile::tempdir().unwrap();
        let turn = Arc::new(Mutex::new(()));
        let writer = WriterThread::start(dir.path().join("t.db"), Arc::clone(&turn), Duration::from_secs(5)).unwrap();
        writer
            .part(move |conn| Ended::Keep(conn.execute_batch(setup)))
            .await
            .unwrap()
            .unwrap();
        (dir, writer, turn)
    }

    type TestPart<T> = Box<dyn FnOnce(&rusqlite::Connection) -> Ended<T> + Send>;

    /// Sends each part in turn while the writer's turn is held, then lets
    /// them run; answers in the order sent.
    async fn grouped<T: Send + 'static>(
        writer: &WriterThread,
        turn: &Arc<Mutex<()>>,
        parts: Vec<TestPart<T>>,
    ) -> Vec<Result<T, sea_orm::DbErr>> {
        let held = turn.lock().await;
        let mut sent = Vec::new();
        for part in parts {
            let writer = writer.clone();
            sent.push(tokio::spawn(async move { writer.part(part).await }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        let mut answers = Vec::new();
        for part in sent {
            answers.push(part.await.unwrap());
        }
        answers
    }

    /// The one number `sql` reads, read alone.
    async fn number(writer: &WriterThread, sql: &'static str) -> i64 {
        writer
            .part(move |conn| Ended::Keep(conn.query_row(sql, [], |row| row.get(0))))
            .await
            .unwrap()
            .unwrap()
    }

    fn bump(conn: &rusqlite::Connection) -> i64 {
        conn.query_row("UPDATE t SET n = n + 1 RETURNING n", [], |row| row.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn parts_of_a_group_see_each_other_and_one_undone_or_panicking_undoes_only_its_own() {
        let (_dir, writer, turn) = held_writer("CREATE TABLE t (n INTEGER NOT NULL); INSERT INTO t VALUES (0)").await;
        let parts: Vec<TestPart<i64>> = vec![
            Box::new(|conn| Ended::Keep(bump(conn))),
            Box::new(|conn| Ended::Undo(bump(conn))),
            Box::new(|conn| {
                bump(conn);
                panic!("a bug in a part");
            }),
            Box::new(|conn| Ended::Keep(bump(conn))),
        ];
        let answers = grouped(&writer, &turn, parts).await;
        assert_eq!(answers[0].as_ref().ok(), Some(&1));
        assert_eq!(
            answers[1].as_ref().ok(),
            Some(&2),
            "the undone part saw the first one's write"
        );
        assert!(matches!(answers[2], Err(sea_orm::DbErr::Custom(_))), "{:?}", answers[2]);
        assert_eq!(
            answers[3].as_ref().ok(),
            Some(&2),
            "the undone and the panicking writes are gone"
        );
        assert_eq!(number(&writer, "SELECT n FROM t").await, 2);
    }

    #[tokio::test]
    async fn a_commit_that_fails_fails_every_part_of_its_group() {
        let (_dir, writer, turn) = held_writer(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY); \
             CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await;
        let parts: Vec<TestPart<()>> = vec![
            Box::new(|conn| {
                conn.execute_batch("INSERT INTO parent VALUES (1)").unwrap();
                Ended::Keep(())
            }),
            // Fails only at the commit: a deferred foreign key to no row.
            Box::new(|conn| {
                conn.execute_batch("INSERT INTO child VALUES (99)").unwrap();
                Ended::Keep(())
            }),
        ];
        let answers = grouped(&writer, &turn, parts).await;
        for answer in &answers {
            assert!(
                matches!(answer, Err(sea_orm::DbErr::Custom(why)) if why.contains("FOREIGN KEY")),
                "{answer:?}"
            );
        }
        assert_eq!(
            number(&writer, "SELECT count(*) FROM parent").await,
            0,
            "the first part's write shared the failed commit"
        );
    }

    #[tokio::test]
    async fn a_part_that_waited_past_its_time_is_not_run() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let turn = Arc::new(Mutex::new(()));
        let writer =
            WriterThread::start(dir.path().join("t.db"), Arc::clone(&turn), Duration::from_millis(50)).unwrap();
        let held = turn.lock().await;
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        let part = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .part(move |_| {
                        flag.store(true, Ordering::SeqCst);
                        Ended::Keep(())
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(120)).await;
        drop(held);
        let part = part.await.unwrap();
        assert!(matches!(part, Err(sea_orm::DbErr::ConnectionAcquire(_))), "{part:?}");
        assert!(!ran.load(Ordering::SeqCst));
    }
}
