//! SQLite: the WAL copied back into the database file on a thread of its
//! own, so that the writer never waits for the disk.
//!
//! Left to itself, SQLite checkpoints inside the `COMMIT` that takes the
//! WAL past 1,000 pages: that commit copies the pages back into the
//! database file and waits for two `fsync`s, and every checkout queued at
//! the writer waits with it. Under load that was most of the writer's
//! waiting (its thread blocked in `fsync` while the request workers ran
//! out of work). Here no connection checkpoints on commit
//! (`wal_autocheckpoint = 0`); the writer nudges this thread after each
//! commit (and the thread looks for other connections' commits once a
//! second), and the thread, a little later, runs a `PASSIVE` checkpoint on
//! its own connection: it copies what was committed and syncs the file
//! while the writer goes on writing, and blocks no one.
//!
//! A passive checkpoint never resets the WAL while commits keep coming
//! (SQLite starts the WAL over only when a writer begins with every frame
//! copied back), so once the WAL has grown past [`RESTART_AT`] frames the
//! thread takes the process's turn at writing and runs a `RESTART`
//! checkpoint: it copies the few frames committed since the passive one
//! and has the next commit write the WAL from its start. Durability is
//! SQLite's `synchronous = NORMAL` as before: the WAL is synced before its
//! pages are copied, and the database file after.

use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Mutex;

/// How long commits gather after a nudge before they are copied back.
const GATHER: Duration = Duration::from_millis(20);

/// Without a nudge (commits through the driver nudge nothing), how often
/// the thread looks for commits to copy back.
const IDLE: Duration = Duration::from_secs(1);

/// A WAL this long (in pages, about 16 MB) is restarted.
const RESTART_AT: i64 = 4_000;

/// How long a restart waits for reads still on the WAL.
const RESTART_WAIT: Duration = Duration::from_millis(5);

/// The writer's handle: nudges the thread after a commit. The thread ends
/// when the handle is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    nudge: mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Opens the database at `path` and starts the thread; `turn` is the
    /// process's turn at writing, held for a restart.
    pub fn start(path: &Path, turn: Arc<Mutex<()>>) -> anyhow::Result<Checkpointer> {
        let conn = open(path)?;
        let (nudge, nudged) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("livemall-checkpoint".into())
            .spawn(move || serve(&conn, &nudged, &turn))?;
        Ok(Checkpointer { nudge })
    }

    /// Tells the thread that something was committed; never waits.
    pub fn nudge(&self) {
        let _ = self.nudge.try_send(());
    }
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // A restart holds the turn while it waits for reads still on the WAL:
    // a few milliseconds, then it gives up and tries again later.
    conn.busy_timeout(RESTART_WAIT)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;")?;
    Ok(conn)
}

fn serve(conn: &Connection, nudged: &mpsc::Receiver<()>, turn: &Mutex<()>) {
    // SQLite's count of commits by other connections when last copied back.
    let mut copied_at = None;
    let mut restart_at = RESTART_AT;
    loop {
        match nudged.recv_timeout(IDLE) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if let Err(error) = round(conn, turn, &mut copied_at, &mut restart_at) {
            tracing::warn!(%error, "checkpointing the SQLite WAL failed; trying again");
        }
    }
}

/// Copies back what was committed since `copied_at`, if anything was.
fn round(
    conn: &Connection,
    turn: &Mutex<()>,
    copied_at: &mut Option<i64>,
    restart_at: &mut i64,
) -> rusqlite::Result<()> {
    if Some(data_version(conn)?) == *copied_at {
        return Ok(());
    }
    std::thread::sleep(GATHER);
    let version = data_version(conn)?;
    let done = checkpoint(conn, turn, *restart_at)?;
    // A restart that found reads still on the WAL is tried again once the
    // WAL has grown by as much again.
    *restart_at = if done.busy { done.log + RESTART_AT } else { RESTART_AT };
    *copied_at = Some(version);
    Ok(())
}

/// Changes whenever another connection has committed.
fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
}

/// What a checkpoint answers: whether it could not finish, the WAL's
/// length and how much of it is in the database file (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    busy: bool,
    log: i64,
    copied: i64,
}

/// A passive checkpoint, and a restart under the turn when the WAL has
/// grown to `restart_at` pages. A restart that could not finish within
/// [`RESTART_WAIT`] (a read still on the WAL) answers `busy`.
fn checkpoint(conn: &Connection, turn: &Mutex<()>, restart_at: i64) -> rusqlite::Result<Progress> {
    let passive = run(conn, "PASSIVE")?;
    if passive.log < restart_at {
        return Ok(passive);
    }
    let _turn = turn.blocking_lock();
    run(conn, "RESTART")
}

fn run(conn: &Connection, mode: &str) -> rusqlite::Result<Progress> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok(Progress {
            busy: row.get::<_, i64>(0)? != 0,
            log: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in a directory of its own, and a writer's connection to
    /// it that never copies the WAL back itself.
    fn database() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("db.sqlite");
        let conn = Connection::open(&path).expect("a database");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; \
             CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)",
        )
        .expect("the schema");
        (dir, path, conn)
    }

    /// Commits `n` transactions of one row of about a page each.
    fn commit(conn: &Connection, n: usize) {
        for _ in 0..n {
            conn.execute("INSERT INTO t (pad) VALUES (zeroblob(3000))", [])
                .expect("an insert");
        }
    }

    fn count(path: &Path) -> i64 {
        let reader = Connection::open(path).expect("a reader");
        reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("a count")
    }

    #[test]
    fn a_short_wal_is_copied_back_without_the_turn() {
        let (_dir, path, conn) = database();
        commit(&conn, 20);
        let turn = Mutex::new(());
        // Held elsewhere: a passive checkpoint must not need it.
        let _held = turn.try_lock().expect("the turn");
        let checkpointer = open(&path).expect("the checkpointer's connection");
        let done = checkpoint(&checkpointer, &turn, RESTART_AT).expect("a checkpoint");
        assert!(!done.busy);
        assert!(done.log >= 20 && done.log < RESTART_AT, "{done:?}");
        assert_eq!(done.copied, done.log, "every frame copied back");
        // The next commit starts the WAL over: it holds one transaction's frames.
        commit(&conn, 1);
        let after = run(&checkpointer, "PASSIVE").expect("a checkpoint");
        assert!(after.log < 5, "the WAL restarted: {after:?}");
        assert_eq!(count(&path), 21);
    }

    #[test]
    fn a_long_wal_is_restarted_under_the_turn() {
        let (_dir, path, conn) = database();
        commit(&conn, usize::try_from(RESTART_AT).expect("a count") + 10);
        let turn = Mutex::new(());
        let checkpointer = open(&path).expect("the checkpointer's connection");
        let done = checkpoint(&checkpointer, &turn, RESTART_AT).expect("a checkpoint");
        assert!(!done.busy, "{done:?}");
        assert_eq!(done.copied, done.log, "every frame copied back: {done:?}");
        assert!(turn.try_lock().is_ok(), "the turn is given back");
        commit(&conn, 1);
        let after = run(&checkpointer, "PASSIVE").expect("a checkpoint");
        assert!(after.log < 5, "the WAL restarted: {after:?}");
        assert_eq!(count(&path), RESTART_AT + 11);
    }

    /// Waits until the database file holds `pages` pages or more.
    fn copied_back(path: &Path, pages: u64) -> u64 {
        let size = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        for _ in 0..500 {
            if size() >= pages * 4096 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        size()
    }

    #[test]
    fn the_thread_copies_the_wal_back_after_a_nudge_or_by_itself() {
        let (_dir, path, conn) = database();
        commit(&conn, 30);
        // Nothing is copied back on commit.
        assert!(std::fs::metadata(&path).expect("the file").len() < 4 * 4096);
        let checkpointer = Checkpointer::start(&path, Arc::new(Mutex::new(()))).expect("the thread");
        checkpointer.nudge();
        let size = copied_back(&path, 30);
        assert!(size >= 30 * 4096, "the rows reached the database file: {size}");
        assert_eq!(count(&path), 30);
        // Commits that nudge nothing (through another connection) too.
        commit(&conn, 30);
        let size = copied_back(&path, 60);
        assert!(size >= 60 * 4096, "the later rows reached the database file: {size}");
    }

    #[test]
    fn a_restart_gives_the_turn_back_soon_when_a_read_is_still_on_the_wal() {
        let (_dir, path, conn) = database();
        commit(&conn, 10);
        // A read transaction that keeps a snapshot of the WAL as it is now.
        let reader = Connection::open(&path).expect("a reader");
        reader.execute_batch("BEGIN").expect("a read transaction");
        let seen: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("a count");
        assert_eq!(seen, 10);
        commit(&conn, 10);
        let turn = Mutex::new(());
        let checkpointer = open(&path).expect("the checkpointer's connection");
        let started = std::time::Instant::now();
        let done = checkpoint(&checkpointer, &turn, 1).expect("a checkpoint");
        assert!(done.busy, "the read keeps the WAL from starting over: {done:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(turn.try_lock().is_ok(), "the turn is given back");
        reader.execute_batch("COMMIT").expect("the read ends");
        let done = checkpoint(&checkpointer, &turn, 1).expect("a checkpoint");
        assert!(!done.busy, "{done:?}");
        assert_eq!(done.copied, done.log);
        assert_eq!(count(&path), 20);
    }
}
