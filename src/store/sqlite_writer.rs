//! SQLite's call-step writer: one OS thread owning one rusqlite connection that runs whole steps
//! in-thread and commits many of them together (group commit).
//!
//! Why: through sqlx every statement is a hop from a tokio worker to sqlx's SQLite thread and back
//! (about 75 µs on this class of machine), so a step of ten statements costs most of a millisecond
//! of thread switching and one commit per step caps the call path near a thousand webhooks a second.
//! Here a step's statements run back to back on the thread that owns the connection (prepared
//! statements cached), and every step waiting when the thread comes round joins one transaction:
//! each step runs inside its own savepoint (a failing step rolls back alone), the batch commits
//! once, and only then is each step's result handed back — so a webhook is answered only after its
//! step is durable. rusqlite and sqlx link the same libsqlite3 (libsqlite3-sys 0.30), and the
//! database file is shared with sqlx's connections (WAL; they wait on the write lock in turn).
//!
//! Checkpoints: a checkpointer thread copies the log back into the database beside the writer. A
//! log is only rewound to its start when a transaction begins with every frame copied back, which
//! under a steady load never happens by itself (the writer appends while the checkpointer copies):
//! the log then grows without bound (2.6 GB in a 10 s flood), and every append lands on a new
//! file page that the kernel must first allocate. So when the checkpointer finds a long log, it
//! asks the writer to copy the rest itself between two batches; the next batch rewinds the log,
//! and its appends reuse file pages already in memory.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// Steps committed together at most.
const MAX_BATCH: usize = 128;
/// Steps queued for the thread at most before callers wait (backpressure).
const QUEUE: usize = 4096;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A step: run on the connection inside the batch's transaction (`None`: the transaction could
/// not begin, so the step must not run).
type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// A handle to the writer thread; cloning shares the thread. The thread ends when every handle
/// is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::SyncSender<Work>,
    /// The checkpointer thread runs while any handle lives.
    _alive: Arc<()>,
}

/// When the log is copied back into the database.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoints {
    /// How often the checkpointer runs.
    pub every: Duration,
    /// After a round that found the log at least this long (frames of one page), the writer
    /// copies what was appended meanwhile between two batches, so the next batch rewinds it.
    pub rewind_frames: i64,
}

impl Default for Checkpoints {
    fn default() -> Self {
        // Half a second; 1 024 frames are 4 MiB with SQLite's default page.
        Checkpoints {
            every: Duration::from_millis(500),
            rewind_frames: 1024,
        }
    }
}

impl Writer {
    /// Opens `path` (which sqlx has created and migrated) and starts the thread.
    pub fn start(
        path: &Path,
        busy_timeout: Duration,
        full_sync: bool,
    ) -> Result<Writer, StoreError> {
        Writer::start_with(path, busy_timeout, full_sync, Checkpoints::default())
    }

    /// [`Writer::start`] with its own checkpoint settings.
    pub fn start_with(
        path: &Path,
        busy_timeout: Duration,
        full_sync: bool,
        checkpoints: Checkpoints,
    ) -> Result<Writer, StoreError> {
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(busy_timeout).map_err(open_error)?;
        // The writer never checkpoints on its own (a checkpoint inside a group commit stalls
        // every step waiting behind it); the checkpointer thread does it beside it. Each step's
        // savepoint keeps a copy of every page it changes (the statement journal); past 64 KiB
        // SQLite spills that to a temporary file, created and deleted step after step (a fifth
        // of the thread's time under load): `temp_store = memory` keeps it in memory.
        let sync = if full_sync { "full" } else { "normal" };
        conn.execute_batch(&format!(
            "pragma journal_mode = wal; pragma synchronous = {sync}; pragma foreign_keys = on; \
             pragma wal_autocheckpoint = 0; pragma temp_store = memory;"
        ))
        .map_err(open_error)?;
        let alive = Arc::new(());
        let checkpointer = Connection::open(path).map_err(open_error)?;
        checkpointer
            .busy_timeout(busy_timeout)
            .map_err(open_error)?;
        let watch = Arc::downgrade(&alive);
        let rewind = Arc::new(AtomicBool::new(false));
        let asked = rewind.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint(checkpointer, watch, checkpoints, &asked))
            .map_err(|e| StoreError::Step(format!("cannot start the checkpointer: {e}")))?;
        conn.set_prepared_statement_cache_capacity(128);
        let (tx, rx) = mpsc::sync_channel::<Work>(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, &rewind))
            .map_err(|e| StoreError::Step(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(Writer { tx, _alive: alive })
    }

    /// Runs `f` inside the next group transaction on the writer thread; its result is returned
    /// once that transaction has committed (an error of `f` rolls back `f`'s writes only).
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(move |conn| {
            let r = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Step(
                    "the SQLite writer could not begin a transaction".into(),
                )),
            };
            let ok = r.is_ok();
            let finish: Finish = Box::new(move |commit| {
                let _ = done.send(match commit {
                    Ok(()) => r,
                    Err(e) if ok => Err(StoreError::Step(format!("group commit failed: {e}"))),
                    Err(_) => r,
                });
            });
            (ok, finish)
        });
        let tx = self.tx.clone();
        // A full queue blocks: wait for room off the async workers.
        match tx.try_send(work) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(work)) => {
                tokio::task::spawn_blocking(move || tx.send(work))
                    .await
                    .map_err(|e| StoreError::Step(e.to_string()))?
                    .map_err(|_| stopped())?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        result.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Step("the SQLite writer thread has stopped".into())
}

fn open_error(e: rusqlite::Error) -> StoreError {
    StoreError::Step(format!("cannot open the SQLite writer connection: {e}"))
}

/// The checkpointer: a passive checkpoint every round (it never blocks the writer or the readers;
/// what readers still use is copied on a later round) until the store is dropped. After a round
/// that found a long log, the writer copies what was appended meanwhile (see the module docs).
fn checkpoint(
    conn: Connection,
    alive: std::sync::Weak<()>,
    every: Checkpoints,
    rewind: &AtomicBool,
) {
    loop {
        std::thread::sleep(every.every);
        if alive.upgrade().is_none() {
            return;
        }
        match passive(&conn) {
            Ok(log) if log >= every.rewind_frames => {
                rewind.store(true, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the next round tries again");
            }
        }
    }
}

/// A passive checkpoint; the log's length in frames.
fn passive(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("pragma wal_checkpoint(passive)", [], |r| r.get(1))
}

/// The thread: take what is waiting (at least one step), run each in a savepoint, commit once,
/// then hand out the results.
fn run(conn: Connection, rx: mpsc::Receiver<Work>, rewind: &AtomicBool) {
    let mut batch: Vec<Work> = Vec::with_capacity(MAX_BATCH);
    let mut finishes: Vec<Finish> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let began = exec_cached(&conn, "begin immediate");
        if let Err(e) = &began {
            tracing::error!(error = %e, "SQLite writer cannot begin a transaction; steps refused");
        }
        for work in batch.drain(..) {
            if began.is_err() {
                let (_, finish) = work(None);
                finish(Ok(()));
                continue;
            }
            if exec_cached(&conn, "savepoint step").is_err() {
                let (_, finish) = work(None);
                finish(Ok(()));
                continue;
            }
            // A panicking step loses its answer (its caller sees the writer as stopped for it)
            // and its writes, but not the thread.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(Some(&conn))));
            let ok = matches!(ran, Ok((true, _)));
            if !ok {
                let _ = exec_cached(&conn, "rollback to step");
            }
            let _ = exec_cached(&conn, "release step");
            if let Ok((_, finish)) = ran {
                finishes.push(finish);
            }
        }
        if began.is_err() {
            continue;
        }
        let committed = exec_cached(&conn, "commit").map_err(|e| {
            let _ = conn.execute_batch("rollback");
            tracing::error!(error = %e, "SQLite group commit failed; its steps are refused");
            e.to_string()
        });
        for finish in finishes.drain(..) {
            finish(committed.clone());
        }
        // Between batches, with the results handed out: finish what the checkpointer left, so the
        // next batch rewinds the log (a reader still on old frames defers that to a later round).
        if rewind.swap(false, Ordering::Relaxed)
            && let Err(e) = passive(&conn)
        {
            tracing::warn!(error = %e, "SQLite checkpoint by the writer failed; a later round tries again");
        }
    }
}

/// Runs a statement through the connection's prepared-statement cache (the transaction control
/// statements run several times per batch; parsing them each time is measurable).
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A steady stream of steps, none of them waiting for the checkpointer: the log is rewound
    /// again and again, so its file stays a small part of what was written through it. Before the
    /// writer finished the checkpointer's work, it grew by every frame written (2.6 GB in 10 s of
    /// the flood).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_load_rewinds_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "pragma journal_mode = wal; create table t (id integer primary key, b blob);",
            )
            .unwrap();
        let every = Checkpoints {
            every: Duration::from_millis(20),
            rewind_frames: 64,
        };
        let writer = Writer::start_with(&path, Duration::from_secs(5), false, every).unwrap();
        const TASKS: usize = 8;
        const STEPS: usize = 4000;
        let row = 3000;
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..STEPS {
                    w.run(move |c| {
                        c.execute("insert into t (b) values (zeroblob(?1))", [row])
                            .map_err(super::super::sqlite_step::db)
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let rows: i64 = setup
            .query_row("select count(*) from t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, (TASKS * STEPS) as i64, "every step committed");
        let written = TASKS * STEPS * row;
        let log = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len() as usize;
        assert!(
            log < written / 4,
            "the log file is {log} bytes after {written} bytes of rows went through it"
        );
    }
}
