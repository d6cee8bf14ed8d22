//! Connecting, migrating, and the two kinds of transaction: tenant-confined
//! (the normal case) and platform-wide (sign-up, login, storefront lookup).

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
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
    conn: DatabaseConnection,
    /// SQLite has one writer at a time. Queueing writers here, in arrival
    /// order, replaces SQLite's busy handler, which sleeps and retries (up to
    /// 100 ms a nap) and so turns contention into long tail latency.
    writer: Option<Arc<Mutex<()>>>,
    /// PostgreSQL: sends the NOTIFYs of committed transactions (see [`Notifier`]).
    notifier: Option<Arc<Notifier>>,
}

/// How long a writer waits for its turn before the request fails with 503.
const WRITER_WAIT: Duration = Duration::from_secs(10);

impl Db {
    #[tracing::instrument(skip(settings))]
    pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
        let url = settings.database_url();
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
        }
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(settings.database.max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sqlx_sqlite_journal())
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Pages are read from the mapped file instead of copied by
                    // read(2): every connection re-reads what another's commit
                    // changed, and under load that copying was a tenth of the CPU.
                    .pragma("mmap_size", MMAP_BYTES.to_string())
            });
        let conn = Database::connect(options).await.context("connecting to the database")?;
        Ok(Db::from_connection(conn))
    }

    pub fn from_connection(conn: DatabaseConnection) -> Db {
        let backend = conn.get_database_backend();
        let writer = (backend == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let notifier = (backend == DbBackend::Postgres).then(|| Arc::new(Notifier::new(conn.clone())));
        Db { conn, writer, notifier }
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
        let mode = match access {
            Access::Read => SqliteTransactionMode::Deferred,
            Access::Write => SqliteTransactionMode::Immediate,
        };
        self.conn
            .begin_with_options(TransactionOptions {
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
        match tokio::time::timeout(WRITER_WAIT, Arc::clone(writer).lock_owned()).await {
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
        Ok(TenantTxn {
            txn,
            tenant_id,
            notes: std::sync::Mutex::new(Vec::new()),
            notifier: self.notifier.clone(),
            _turn: turn,
        })
    }

    /// A platform-wide transaction, for the few operations that happen before
    /// a tenant is known: sign-up, login, token refresh, storefront lookup.
    pub async fn platform(&self, access: Access) -> Result<DatabaseTransaction, DbErr> {
        self.begin(access).await
    }
}

/// How much of an SQLite database file is memory-mapped (address space, not memory).
const MMAP_BYTES: u64 = 1 << 30;

fn sqlx_sqlite_journal() -> sea_orm::sqlx::sqlite::SqliteJournalMode {
    // WAL lets readers proceed while one writer commits.
    sea_orm::sqlx::sqlite::SqliteJournalMode::Wal
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
