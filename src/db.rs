//! Connecting, migrating, and the two kinds of transaction: tenant-confined
//! (the normal case; a storefront's transaction finds its tenant with its
//! first statement) and platform-wide (sign-up, login).

pub mod batch;
pub mod checkpoint;
pub mod insert;
pub mod memory;
pub mod reader;
pub mod writer;

use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, ExecResult, QueryResult, QueryTrait, Select, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, TryIntoModel, Value,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::events::notify::Notifier;
use crate::settings::Settings;

pub use migration::rls::APP_ROLE;

/// Whether a transaction will write; SQLite takes its write lock up front
/// for writers so two of them never deadlock upgrading a read lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

#[derive(Clone, Debug)]
pub struct Db {
    /// The pool: every transaction on PostgreSQL; reads through the driver on SQLite.
    conn: DatabaseConnection,
    /// SQLite: the one connection that writes (see [`Writer`]).
    writer: Option<Writer>,
    /// SQLite: connections for reads on the caller's thread (see [`reader`]).
    readers: Option<Arc<reader::Readers>>,
    /// PostgreSQL: sends the NOTIFYs of committed transactions (see [`Notifier`]).
    notifier: Option<Arc<Notifier>>,
    /// PostgreSQL: a connection kept apart from the pool (see [`Db::tenant_aside`]).
    aside: Option<DatabaseConnection>,
}

/// SQLite has one writer at a time, so write transactions queue here, in
/// arrival order, for their turn (`turn`) at the connections kept for
/// writing: the driver's, for transactions written as async code, and the
/// writer's own (see [`writer`]), for checkouts. The queue replaces SQLite's
/// busy handler, which sleeps and retries (up to 100 ms a nap) and so turns
/// contention into long tail latency. A writing connection sees few commits
/// but its own and keeps its page cache from one transaction to the next;
/// a pooled connection finds its cache stale after another connection's
/// commit and reads the pages again. (Platform-wide writers, which are
/// rare, wait for the driver's connection itself rather than the queue.)
#[derive(Clone, Debug)]
struct Writer {
    conn: DatabaseConnection,
    turn: Arc<Mutex<()>>,
    /// The writer's own connection and thread, for hot write transactions
    /// (see [`Db::on_writer`]); it takes the same turn.
    thread: writer::WriterThread,
}

/// How long a writer waits for its turn before the request fails with 503.
const WRITER_WAIT: Duration = Duration::from_secs(10);

impl Db {
    #[tracing::instrument(skip(settings))]
    pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
        let url = settings.database_url();
        if url.starts_with("sqlite:") {
            if !memory::use_process_allocator() {
                tracing::debug!("SQLite had started before it could be given the process's allocator");
            }
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
        }
        let conn = Database::connect(options(&url, settings.database.max_connections))
            .await
            .context("connecting to the database")?;
        let backend = conn.get_database_backend();
        let (writer, readers) = match backend {
            DbBackend::Sqlite => {
                let turn = Arc::new(Mutex::new(()));
                let path = SqliteConnectOptions::from_str(&url)
                    .context("reading the SQLite address")?
                    .get_filename()
                    .to_path_buf();
                let readers = Arc::new(reader::Readers::new(path.clone()));
                let writer = Writer {
                    conn: Database::connect(options(&url, 1))
                        .await
                        .context("connecting to the database for writing")?,
                    thread: writer::WriterThread::start(path, Arc::clone(&turn), WRITER_WAIT)
                        .context("opening the database for writing")?,
                    turn,
                };
                (Some(writer), Some(readers))
            }
            _ => (None, None),
        };
        let (notifier, aside) = match backend {
            DbBackend::Postgres => (
                Some(Arc::new(Notifier::new(conn.clone()))),
                Some(
                    Database::connect(options(&url, 1).min_connections(0).to_owned())
                        .await
                        .context("connecting to the database for short writes aside")?,
                ),
            ),
            _ => (None, None),
        };
        Ok(Db {
            conn,
            writer,
            readers,
            notifier,
            aside,
        })
    }

    /// SQLite: the connections for reads on the caller's thread (see
    /// [`reader`]); `None` elsewhere.
    pub fn own_readers(&self) -> Option<&Arc<reader::Readers>> {
        self.readers.as_ref()
    }

    /// SQLite: runs `part` on the writer's own connection, in this
    /// process's turn at writing (see [`writer`]): its statements with no
    /// hand-off between them, in one transaction with the parts queued next
    /// to it, each in a savepoint of its own (see [`writer::WriterThread::part`]).
    /// The part runs to its end even if the caller stops waiting, and is
    /// answered once the transaction committed; one that could not start
    /// within the writer's wait fails with a timeout (503) and never runs.
    pub async fn on_writer<T: Send + 'static>(
        &self,
        part: impl FnOnce(&rusqlite::Connection) -> writer::Ended<T> + Send + 'static,
    ) -> Result<T, DbErr> {
        match &self.writer {
            Some(writer) => writer.thread.part(part).await,
            None => Err(DbErr::Custom("the writer's own connection is SQLite's".into())),
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.conn, None).await.context("applying migrations")
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The raw pool: health checks, tests, and platform-wide reads of a
    /// single statement, which need no transaction.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    async fn begin(&self, access: Access) -> Result<DatabaseTransaction, DbErr> {
        let (mode, conn) = match (access, &self.writer) {
            (Access::Write, Some(writer)) => (SqliteTransactionMode::Immediate, &writer.conn),
            _ => (SqliteTransactionMode::Deferred, &self.conn),
        };
        conn.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(mode),
            ..Default::default()
        })
        .await
    }

    /// Waits for this process's turn to write to SQLite (no wait elsewhere).
    async fn writer_turn(&self, access: Access) -> Result<Option<OwnedMutexGuard<()>>, DbErr> {
        let (Some(writer), Access::Write) = (&self.writer, access) else {
            return Ok(None);
        };
        match tokio::time::timeout(WRITER_WAIT, Arc::clone(&writer.turn).lock_owned()).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }

    /// A transaction confined to one tenant. On PostgreSQL it runs as the
    /// application role with `app.tenant_id` set, so row-level security
    /// hides every other tenant's rows even from a query that forgot the filter.
    pub async fn tenant(&self, tenant_id: Uuid, access: Access) -> Result<TenantTxn, DbErr> {
        let turn = self.writer_turn(access).await?;
        let txn = self.begin(access).await?;
        if self.backend() == DbBackend::Postgres {
            // Both settings in one round trip; `is_local` ends them with the transaction.
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)",
                [APP_ROLE.into(), tenant_id.to_string().into()],
            ))
            .await?;
        }
        Ok(self.confined(txn, tenant_id, turn))
    }

    /// PostgreSQL: a write transaction confined to one tenant on the
    /// connection kept apart from the pool, for a short write that a request
    /// makes while it holds a pooled connection (so it never waits for a
    /// second one from a pool its peers hold; see
    /// [`crate::orders::numbers`]). Its commit is not waited for on disk
    /// (`synchronous_commit` off): what it writes is for transactions that
    /// begin after it commits and wait for their own commit, whose flush of
    /// the log covers every commit before it.
    pub async fn tenant_aside(&self, tenant_id: Uuid) -> Result<TenantTxn, DbErr> {
        let Some(aside) = &self.aside else {
            return Err(DbErr::Custom("the connection aside is PostgreSQL's".into()));
        };
        let txn = aside.begin().await?;
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true), \
             set_config('synchronous_commit', 'off', true)",
            [APP_ROLE.into(), tenant_id.to_string().into()],
        ))
        .await?;
        Ok(self.confined(txn, tenant_id, None))
    }

    fn confined(&self, txn: DatabaseTransaction, tenant_id: Uuid, turn: Option<OwnedMutexGuard<()>>) -> TenantTxn {
        TenantTxn {
            txn,
            tenant_id,
            notes: std::sync::Mutex::new(Vec::new()),
            notifier: self.notifier.clone(),
            _turn: turn,
        }
    }

    /// A transaction confined to the tenant its first statement finds:
    /// `lookup` (a platform-wide query; its rows, if several, all of one
    /// tenant) names the tenant in its column `tenant_column`. On
    /// PostgreSQL the same statement sets the role and that tenant for the
    /// rest of the transaction, so finding a storefront and walling off its
    /// tenant is one round trip; a checkout goes on to write in it. On
    /// SQLite it is a reader's and only reads.
    /// `None` when `lookup` finds nothing.
    pub async fn tenant_found_by(
        &self,
        lookup: Statement,
        tenant_column: &str,
    ) -> Result<Option<(TenantTxn, Vec<QueryResult>)>, DbErr> {
        let txn = self.begin(Access::Read).await?;
        let statement = match self.backend() {
            DbBackend::Postgres => Statement {
                sql: format!(
                    "SELECT found.*, set_config('role', '{APP_ROLE}', true) AS set_role, \
                     set_config('app.tenant_id', CAST(found.\"{tenant_column}\" AS text), true) AS set_tenant \
                     FROM ({}) AS found",
                    lookup.sql
                ),
                ..lookup
            },
            _ => lookup,
        };
        let rows = txn.query_all_raw(statement).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let tenant_id: Uuid = first.try_get("", tenant_column)?;
        Ok(Some((self.confined(txn, tenant_id, None), rows)))
    }

    /// A platform-wide transaction, for the few operations that happen before
    /// a tenant is known: sign-up, login, token refresh.
    pub async fn platform(&self, access: Access) -> Result<DatabaseTransaction, DbErr> {
        // On SQLite a writing one waits for the writer's connection.
        self.begin(access).await
    }
}

/// SQL written with `?` placeholders for `backend`: as is on SQLite,
/// numbered `$1, $2, ..` on PostgreSQL.
pub fn placeholders(backend: DbBackend, text: &str) -> String {
    placeholders_after(backend, text, 0)
}

/// Runs a statement written with `?` placeholders (see [`placeholders`]) on `conn`.
pub async fn execute(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<ExecResult, DbErr> {
    let backend = conn.get_database_backend();
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        placeholders(backend, sql),
        values,
    ))
    .await
}

/// [`placeholders`] for SQL that goes after `before` values of the same
/// statement: on PostgreSQL the first `?` is `$before + 1`.
pub fn placeholders_after(backend: DbBackend, text: &str, before: usize) -> String {
    if backend != DbBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = before;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// The pool's options; on SQLite every connection gets the same pragmas.
fn options(url: &str, max_connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // A connection used within the last half minute is handed out as
        // is. By default the pool pings the server each time it hands one
        // out, a round trip before every transaction (on SQLite, while the
        // writer's turn is held). A connection that broke meanwhile fails
        // its first statement instead, that request answers with the
        // error, and the pool closes it.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sqlx_sqlite_journal())
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Commits never copy the WAL back: the checkpointer's
                // thread does (see `checkpoint`).
                .pragma("wal_autocheckpoint", "0")
            // No memory map: a reader that finds the file changed since its
            // last transaction (under load, nearly every time) unmaps it,
            // and unmapping interrupts every core to flush its TLB; that
            // cost more than the copying through read(2) it saves.
        });
    options
}

fn sqlx_sqlite_journal() -> sea_orm::sqlx::sqlite::SqliteJournalMode {
    // WAL lets readers proceed while one writer commits.
    sea_orm::sqlx::sqlite::SqliteJournalMode::Wal
}

/// A tenant's reads during one request: its transaction; or on SQLite,
/// statements on the application's own readers (see [`reader`]), with a
/// transaction through the driver opened only for a read that needs one.
pub enum Reads {
    Txn(TenantTxn),
    Own {
        readers: Arc<reader::Readers>,
        tenant_id: Uuid,
        txn: Option<TenantTxn>,
    },
}

impl Reads {
    /// The transaction, opened (for reading) on first use on SQLite.
    pub async fn txn(&mut self, db: &Db) -> Result<&TenantTxn, DbErr> {
        match self {
            Reads::Txn(txn) => Ok(txn),
            Reads::Own { tenant_id, txn, .. } => {
                if txn.is_none() {
                    *txn = Some(db.tenant(*tenant_id, Access::Read).await?);
                }
                txn.as_ref()
                    .ok_or_else(|| DbErr::Custom("the read transaction opened was not kept".into()))
            }
        }
    }

    /// Where one statement of these reads goes.
    pub fn on(&self) -> ReadOn<'_> {
        match self {
            Reads::Txn(txn) => ReadOn::Txn(txn),
            Reads::Own { readers, tenant_id, .. } => ReadOn::Own(readers, *tenant_id),
        }
    }
}

/// Where one read of a tenant's rows goes (see [`Reads`]).
#[derive(Clone, Copy)]
pub enum ReadOn<'a> {
    /// The tenant's transaction.
    Txn(&'a TenantTxn),
    /// SQLite: a reader of the application's own, on this thread.
    Own(&'a reader::Readers, Uuid),
}

impl<'a> From<&'a TenantTxn> for ReadOn<'a> {
    fn from(txn: &'a TenantTxn) -> ReadOn<'a> {
        ReadOn::Txn(txn)
    }
}

impl ReadOn<'_> {
    pub fn tenant_id(self) -> Uuid {
        match self {
            ReadOn::Txn(txn) => txn.tenant_id(),
            ReadOn::Own(_, tenant_id) => tenant_id,
        }
    }

    pub fn backend(self) -> DbBackend {
        match self {
            ReadOn::Txn(txn) => txn.get_database_backend(),
            ReadOn::Own(..) => DbBackend::Sqlite,
        }
    }

    /// The models `select` finds.
    pub async fn all<E: EntityTrait>(self, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        match self {
            ReadOn::Txn(txn) => select.all(&**txn).await,
            ReadOn::Own(readers, _) => {
                let rows = readers.rows(select.build(DbBackend::Sqlite), &reader::Kinds::new().entity::<E>(""))?;
                rows.iter().map(|row| reader::Cells::model::<E>(&row, "")).collect()
            }
        }
    }
}

/// A transaction that can only see one tenant's rows; the tenant id comes
/// from the authenticated principal, never from the request.
pub struct TenantTxn {
    txn: DatabaseTransaction,
    tenant_id: Uuid,
    /// Notifications (channel, payload) to send once this transaction commits.
    notes: std::sync::Mutex<Vec<(&'static str, String)>>,
    notifier: Option<Arc<Notifier>>,
    /// Held until commit or drop; declared after `txn` so it is released after it.
    _turn: Option<OwnedMutexGuard<()>>,
}

impl TenantTxn {
    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }

    /// Queues a notification for other processes, sent after this
    /// transaction commits and never if it rolls back (PostgreSQL; a no-op
    /// on SQLite, where one process polls).
    pub fn notify_on_commit(&self, channel: &'static str, payload: String) {
        if self.notifier.is_some() {
            if let Ok(mut notes) = self.notes.lock() {
                notes.push((channel, payload));
            }
        }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if let Some(notifier) = &self.notifier {
            let notes = self
                .notes
                .lock()
                .map(|mut n| std::mem::take(&mut *n))
                .unwrap_or_default();
            notifier.send(notes);
        }
        Ok(())
    }
}

impl Deref for TenantTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}
