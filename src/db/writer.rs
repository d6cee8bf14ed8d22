//! SQLite: the writer's own connection, driven by a thread of its own.
//!
//! Through the driver every statement is a hand-off: the task sends it to
//! the connection's worker thread, which runs it and wakes the task again.
//! A write transaction of three statements (`BEGIN`, one batch, `COMMIT`)
//! was six such wake-ups while every other writer waited, and those, not
//! SQLite's work, bounded how many could commit a second. Here a whole
//! transaction is one job: the thread runs it on its connection from start
//! to end with no wake-up between statements, and the only hand-offs are
//! the job in and its answer out. Jobs that queued while one ran run next,
//! in one turn at the writer (see [`super::Db`]'s queue).
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
use tokio::sync::Mutex;

use super::batch::{Batch, Steps};

/// A job on the writer's connection.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Prepared statements kept per connection: a checkout's batch is about a
/// dozen, varying with its lines and claims.
const PREPARED: usize = 256;

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
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("livemall-writer".into())
            .spawn(move || serve(conn, &queue, &turn))?;
        Ok(WriterThread { jobs, wait })
    }

    /// Runs `job` on the writer's connection and answers what it returns;
    /// `ConnectionAcquire(Timeout)` when it could not start in time (it
    /// then never runs). The job runs to its end even if the caller stops
    /// waiting.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, DbErr> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let deadline = Instant::now() + self.wait;
        let job: Job = Box::new(move |conn| {
            let outcome = if Instant::now() > deadline {
                Err(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
            } else {
                Ok(job(conn))
            };
            let _ = answer.send(outcome);
        });
        self.jobs
            .send(job)
            .map_err(|_| DbErr::Custom("the writer's thread has stopped".into()))?;
        answered
            .await
            .map_err(|_| DbErr::Custom("the writer's job ended without an answer".into()))?
    }
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    conn.set_prepared_statement_cache_capacity(PREPARED);
    Ok(conn)
}

/// The thread: waits for a job, takes the turn, runs it and every job
/// queued meanwhile, gives the turn back.
fn serve(mut conn: Connection, queue: &mpsc::Receiver<Job>, turn: &Mutex<()>) {
    while let Ok(job) = queue.recv() {
        let _turn = turn.blocking_lock();
        survive(job, &mut conn);
        while let Ok(job) = queue.try_recv() {
            survive(job, &mut conn);
        }
    }
}

/// Runs a job; one that panics ends alone (its transaction, dropped while
/// unwinding, rolls back, and its caller is told it ended without an
/// answer), and the thread goes on with the next.
fn survive(job: Job, conn: &mut Connection) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))).is_err() {
        tracing::error!("a job on the writer's connection panicked");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs a batch's statements in order on `conn`; answers the rows whose
/// first column is a step (see [`super::batch`]), each with its values.
pub fn run_batch(conn: &Connection, batch: &Batch) -> rusqlite::Result<Steps<Vec<Sql>>> {
    let mut answered = Vec::new();
    for (sql, values) in batch.statements() {
        let mut statement = conn.prepare_cached(sql)?;
        if statement.parameter_count() != values.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                statement.parameter_count(),
            ));
        }
        for (i, value) in values.iter().enumerate() {
            statement.raw_bind_parameter(i + 1, bind(value)?)?;
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
pub fn bind(value: &Value) -> rusqlite::Result<Sql> {
    let unsupported = || rusqlite::Error::ToSqlConversionFailure(format!("no SQLite binding for {value:?}").into());
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
            Some(v) => Sql::Integer(i64::try_from(*v).map_err(|_| unsupported())?),
            None => Sql::Null,
        },
        Value::Float(v) => v.map_or(Sql::Null, |v| Sql::Real(v.into())),
        Value::Double(v) => v.map_or(Sql::Null, Sql::Real),
        Value::String(v) => v.as_ref().map_or(Sql::Null, |v| Sql::Text(v.clone())),
        Value::Char(v) => v.map_or(Sql::Null, |v| Sql::Text(v.to_string())),
        Value::Enum(v) => match v {
            sea_orm::sea_query::OptionEnum::Some(v) => Sql::Text(v.value.to_string()),
            sea_orm::sea_query::OptionEnum::None(_) => Sql::Null,
        },
        Value::Bytes(v) => v.as_ref().map_or(Sql::Null, |v| Sql::Blob(v.clone())),
        Value::Uuid(v) => v.map_or(Sql::Null, |v| Sql::Blob(v.as_bytes().to_vec())),
        Value::Json(v) => match v {
            Some(v) => {
                Sql::Text(serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?)
            }
            None => Sql::Null,
        },
        Value::ChronoDateTimeUtc(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTimeWithTimeZone(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTimeLocal(v) => v.map_or(Sql::Null, |v| Sql::Text(rfc3339(&v))),
        Value::ChronoDateTime(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%F %T%.f").to_string())),
        Value::ChronoDate(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%F").to_string())),
        Value::ChronoTime(v) => v.map_or(Sql::Null, |v| Sql::Text(v.format("%T%.f").to_string())),
        _ => return Err(unsupported()),
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

    use super::{run_batch, WriterThread};
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
            .run(move |conn| {
                let mut batch = Batch::new();
                let mut here = vec![Value::from("writer")];
                here.extend(values());
                batch.push_sql(&insert, here);
                run_batch(conn, &batch).map(|_| ())
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

    #[tokio::test]
    async fn steps_answer_with_their_values_and_statements_run_in_order() {
        let (_dir, writer) = fresh_writer();
        let steps = writer
            .run(|conn| {
                conn.execute_batch(
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO t VALUES (1, 5)",
                )?;
                let mut batch = Batch::new();
                for (step, take) in [(1i64, 3i64), (2, 3), (3, 2)] {
                    batch.push_sql(
                        &format!("UPDATE t SET n = n - ? WHERE id = 1 AND n >= ? RETURNING {step}, n"),
                        [take.into(), take.into()],
                    );
                }
                run_batch(conn, &batch)
            })
            .await
            .unwrap()
            .unwrap();
        assert!(steps.answered(1) && !steps.answered(2) && steps.answered(3));
        assert_eq!(steps.row(3), Some(&vec![rusqlite::types::Value::Integer(0)]));
    }

    #[tokio::test]
    async fn a_job_that_panics_ends_alone_and_the_next_one_runs() {
        let (_dir, writer) = fresh_writer();
        writer
            .run(|conn| conn.execute_batch("CREATE TABLE t (n INTEGER)"))
            .await
            .unwrap()
            .unwrap();
        let failed = writer
            .run(|conn| {
                let txn = conn.transaction().unwrap();
                txn.execute_batch("INSERT INTO t VALUES (1)").unwrap();
                panic!("a bug in a job");
            })
            .await;
        assert!(matches!(failed, Err(sea_orm::DbErr::Custom(_))), "{failed:?}");
        let rows: i64 = writer
            .run(|conn| conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows, 0, "the panicking job's insert was rolled back");
    }

    #[tokio::test]
    async fn a_job_that_waited_past_its_time_is_not_run() {
        let dir = tempfile::tempdir().unwrap();
        let turn = Arc::new(Mutex::new(()));
        let writer =
            WriterThread::start(dir.path().join("t.db"), Arc::clone(&turn), Duration::from_millis(50)).unwrap();
        let held = turn.lock().await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        let job = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .run(move |_| flag.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(120)).await;
        drop(held);
        let outcome = job.await.unwrap();
        assert!(
            matches!(outcome, Err(sea_orm::DbErr::ConnectionAcquire(_))),
            "{outcome:?}"
        );
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
