//! Wake-ups, within this process and across instances sharing one PostgreSQL database.
//!
//! Three things wait for work that another part of the service (or another instance) makes: the
//! job worker (a job was enqueued), the hold-queue dispatcher (an operator may have become free)
//! and the live pages' event streams (presence, the callback list or the calls changed). Each
//! waits on [`Wake`] *or* its polling interval, so a lost wake-up only costs the interval: polling
//! stays the fallback and correctness never depends on a wake-up.
//!
//! [`Wake::signal`] is called right after a change is committed. It wakes the local waiter at
//! once; on PostgreSQL ([`Wake::spawn_postgres`]) a pump task also sends `pg_notify` on the
//! channel `perezvon:<schema>` with the instance's id and the topics, coalescing bursts into one
//! notification (the live topic at most once per [`LIVE_GAP`]), and a listener task
//! (`LISTEN`, reconnecting with backoff) wakes this instance's waiters for the other instances'
//! changes. After a (re)connection every waiter is woken, since notifications may have been missed
//! meanwhile. On SQLite (one instance) only the local wake-ups exist.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// What a wake-up is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// A job was enqueued.
    Jobs,
    /// An operator may have become free, or the queue changed: the dispatcher should look.
    Dispatch,
    /// Something the live pages show changed (presence, the callback list, calls).
    Live,
    /// The blocklist or the per-number limits changed: the switchboard reads them again.
    Rules,
}

const TOPICS: [(Topic, u8, &str); 4] = [
    (Topic::Jobs, 1, "jobs"),
    (Topic::Dispatch, 2, "dispatch"),
    (Topic::Live, 4, "live"),
    (Topic::Rules, 8, "rules"),
];

fn bit(t: Topic) -> u8 {
    TOPICS
        .iter()
        .find(|(x, ..)| *x == t)
        .map_or(0, |(_, b, _)| *b)
}

/// The live topic is sent to other instances at most this often (each page polls at most this
/// often too, see [`LiveWait`]).
pub const LIVE_GAP: Duration = Duration::from_millis(200);
/// The longest wait between attempts to (re)connect the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wake-ups of one instance (see the module docs).
pub struct Wake {
    jobs: Arc<Notify>,
    dispatch: Notify,
    live: watch::Sender<u64>,
    /// Counts [`Topic::Rules`] signals: a cache of the rules read at another count is stale.
    rules: watch::Sender<u64>,
    /// Topics signalled here and not yet sent to the other instances.
    outbox: AtomicU8,
    pump: Notify,
    /// Whether a pump sends to other instances (PostgreSQL).
    shared: AtomicBool,
    /// This instance's id in notifications (its own are ignored when they come back).
    instance: String,
    /// Run when another instance signalled [`Topic::Dispatch`], or when such a signal may have
    /// been missed (the listener (re)connected): what this instance cached about who is free is
    /// stale (see [`Wake::on_dispatch_elsewhere`]).
    elsewhere: std::sync::Mutex<Vec<Hook>>,
}

type Hook = Box<dyn Fn() + Send + Sync>;

impl Default for Wake {
    fn default() -> Self {
        Wake::new()
    }
}

impl Wake {
    /// Local wake-ups only, until [`Wake::spawn_postgres`].
    pub fn new() -> Wake {
        Wake {
            jobs: Arc::new(Notify::new()),
            dispatch: Notify::new(),
            live: watch::Sender::new(0),
            rules: watch::Sender::new(0),
            outbox: AtomicU8::new(0),
            pump: Notify::new(),
            shared: AtomicBool::new(false),
            instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            elsewhere: Default::default(),
        }
    }

    /// Runs `hook` whenever another instance may have freed an operator (its [`Topic::Dispatch`]
    /// arrived, or the listener (re)connected and may have missed one), before this instance's
    /// dispatcher is woken for it.
    pub fn on_dispatch_elsewhere(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.elsewhere
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(hook));
    }

    fn dispatched_elsewhere(&self) {
        for hook in self
            .elsewhere
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            hook();
        }
    }

    /// A change about `topic` was committed: wakes this instance's waiter and, on PostgreSQL,
    /// the other instances'.
    pub fn signal(&self, topic: Topic) {
        self.local(topic);
        if self.shared.load(Ordering::Relaxed) {
            self.outbox.fetch_or(bit(topic), Ordering::AcqRel);
            self.pump.notify_one();
        }
    }

    fn local(&self, topic: Topic) {
        match topic {
            Topic::Jobs => self.jobs.notify_one(),
            Topic::Dispatch => self.dispatch.notify_one(),
            Topic::Live => self.live.send_modify(|n| *n = n.wrapping_add(1)),
            Topic::Rules => self.rules.send_modify(|n| *n = n.wrapping_add(1)),
        }
    }

    /// How many [`Topic::Rules`] signals this instance has seen (here or from other instances).
    pub fn rules_generation(&self) -> u64 {
        *self.rules.borrow()
    }

    fn local_all(&self) {
        self.dispatched_elsewhere();
        TOPICS.iter().for_each(|(t, ..)| self.local(*t));
    }

    /// The notifier the job worker waits on.
    pub fn jobs_notify(&self) -> Arc<Notify> {
        self.jobs.clone()
    }

    /// Completes at the next [`Topic::Dispatch`] signal (one signalled meanwhile counts).
    pub async fn dispatch_notified(&self) {
        self.dispatch.notified().await
    }

    /// A live page's pacing of its polls (see [`LiveWait::next`]).
    pub fn live(&self) -> LiveWait {
        LiveWait {
            rx: self.live.subscribe(),
            last: None,
            closed: false,
        }
    }

    /// Applies a notification from the channel: `<instance> <topic>,<topic>…`.
    fn receive(&self, payload: &str) {
        let Some((from, topics)) = payload.split_once(' ') else {
            return;
        };
        if from == self.instance {
            return;
        }
        for name in topics.split(',') {
            if let Some((t, ..)) = TOPICS.iter().find(|(.., n)| *n == name) {
                if *t == Topic::Dispatch {
                    self.dispatched_elsewhere();
                }
                self.local(*t);
            }
        }
    }

    /// Starts the pump and the listener on the PostgreSQL database at `url` (the instance's
    /// `database_url`); both end when `stop` completes. Fails only when the database cannot be
    /// asked for its schema; a connection lost later is retried with backoff.
    pub async fn spawn_postgres(
        self: &Arc<Self>,
        url: &str,
        stop: watch::Receiver<bool>,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let schema: String = sqlx::query_scalar("select current_schema()::text")
            .fetch_one(&pool)
            .await?;
        let channel = format!("perezvon:{schema}");
        self.shared.store(true, Ordering::Relaxed);
        tracing::info!(channel, instance = %self.instance, "wake-ups shared with other instances (LISTEN/NOTIFY)");
        let pump = tokio::spawn(
            self.clone()
                .pump(pool.clone(), channel.clone(), stop.clone()),
        );
        let listen = tokio::spawn(self.clone().listen(pool, channel, stop));
        Ok(vec![pump, listen])
    }

    /// Sends the outbox to the other instances, a burst as one notification.
    async fn pump(self: Arc<Self>, pool: PgPool, channel: String, mut stop: watch::Receiver<bool>) {
        let mut live_pending = false;
        let mut last_live: Option<Instant> = None;
        loop {
            let live_due = last_live.map_or_else(Instant::now, |l| l + LIVE_GAP);
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = self.pump.notified() => {}
                _ = tokio::time::sleep_until(live_due), if live_pending => {}
            }
            let mut bits = self.outbox.swap(0, Ordering::AcqRel);
            live_pending |= bits & bit(Topic::Live) != 0;
            bits &= !bit(Topic::Live);
            let now = Instant::now();
            if live_pending && last_live.is_none_or(|l| now >= l + LIVE_GAP) {
                bits |= bit(Topic::Live);
                live_pending = false;
                last_live = Some(now);
            }
            if bits == 0 {
                continue;
            }
            let names: Vec<&str> = TOPICS
                .iter()
                .filter(|(_, b, _)| bits & b != 0)
                .map(|(.., n)| *n)
                .collect();
            let payload = format!("{} {}", self.instance, names.join(","));
            let sent = sqlx::query("select pg_notify($1, $2)")
                .bind(&channel)
                .bind(&payload)
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                // The others poll meanwhile; pausing keeps a dead database from spinning this.
                tracing::warn!(error = %e, "cannot notify the other instances; they will poll");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Listens on the channel until `stop`, reconnecting with backoff.
    async fn listen(
        self: Arc<Self>,
        pool: PgPool,
        channel: String,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(100);
        let mut lost = false;
        loop {
            let connected = async {
                let mut l = PgListener::connect_with(&pool).await?;
                l.listen(&channel).await?;
                Ok::<_, sqlx::Error>(l)
            };
            let connected = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                c = connected => c,
            };
            let mut listener = match connected {
                Ok(l) => l,
                Err(e) => {
                    lost = true;
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot listen for other instances' wake-ups");
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            if std::mem::take(&mut lost) {
                tracing::info!("wake-up listener reconnected");
            }
            // Whatever was signalled while nobody listened is looked at now.
            self.local_all();
            loop {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    r = listener.try_recv() => match r {
                        Ok(Some(n)) => self.receive(n.payload()),
                        // The connection was lost; the next call reconnects and listens again.
                        Ok(None) => {
                            tracing::warn!("wake-up listener lost its connection; reconnecting");
                            self.local_all();
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "wake-up listener failed; reconnecting");
                            lost = true;
                            break;
                        }
                    },
                }
            }
        }
    }
}

/// Paces a live page's polls: the next poll is due `poll` after the last one, or as soon as a
/// change is signalled — but never sooner than [`LIVE_GAP`] after the last, however busy the line.
pub struct LiveWait {
    rx: watch::Receiver<u64>,
    last: Option<Instant>,
    closed: bool,
}

impl LiveWait {
    /// Waits until the next poll is due (the first is due at once).
    pub async fn next(&mut self, poll: Duration) {
        if let Some(last) = self.last {
            let deadline = last + poll;
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                changed = self.rx.changed(), if !self.closed => {
                    if changed.is_err() {
                        self.closed = true;
                        tokio::time::sleep_until(deadline).await;
                    } else {
                        tokio::time::sleep_until(last + LIVE_GAP).await;
                    }
                }
            }
        }
        self.last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_signal_here_or_from_another_instance_marks_cached_rules_stale() {
        let w = Wake::new();
        let g = w.rules_generation();
        w.signal(Topic::Rules);
        assert_eq!(w.rules_generation(), g + 1);
        w.receive("someone-else jobs,rules");
        assert_eq!(w.rules_generation(), g + 2);
        w.receive(&format!("{} rules", w.instance));
        assert_eq!(w.rules_generation(), g + 2, "own notification ignored");
    }

    #[test]
    fn only_another_instances_dispatch_signal_runs_the_hooks() {
        let w = Wake::new();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = runs.clone();
        w.on_dispatch_elsewhere(move || {
            r.fetch_add(1, Ordering::Relaxed);
        });
        w.signal(Topic::Dispatch);
        w.receive(&format!("{} dispatch", w.instance));
        w.receive("someone-else jobs,live");
        assert_eq!(runs.load(Ordering::Relaxed), 0, "own or other topics");
        w.receive("someone-else jobs,dispatch");
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        w.local_all();
        assert_eq!(runs.load(Ordering::Relaxed), 2, "after a (re)connection");
    }

    #[tokio::test]
    async fn a_signal_wakes_the_local_waiters_and_foreign_notifications_too() {
        let w = Wake::new();
        w.signal(Topic::Dispatch);
        tokio::time::timeout(Duration::from_millis(100), w.dispatch_notified())
            .await
            .expect("a dispatch signal given before waiting is kept");
        let jobs = w.jobs_notify();
        w.receive("someone-else jobs,live");
        tokio::time::timeout(Duration::from_millis(100), jobs.notified())
            .await
            .expect("another instance's jobs wake this worker");
        // Our own notifications coming back change nothing.
        let mut live = w.live();
        live.next(Duration::from_secs(60)).await;
        w.receive(&format!("{} live", w.instance));
        let slept = tokio::time::timeout(
            Duration::from_millis(300),
            live.next(Duration::from_secs(60)),
        );
        assert!(slept.await.is_err(), "own notification ignored");
        w.receive("other live");
        let t = Instant::now();
        tokio::time::timeout(Duration::from_secs(2), live.next(Duration::from_secs(60)))
            .await
            .expect("another instance's live change wakes the page");
        assert!(t.elapsed() < Duration::from_secs(1));
        w.receive("garbage");
    }

    #[tokio::test]
    async fn live_polls_are_paced_but_never_later_than_the_interval() {
        let w = Wake::new();
        let mut live = w.live();
        live.next(Duration::from_millis(500)).await;
        let t = Instant::now();
        w.signal(Topic::Live);
        live.next(Duration::from_millis(500)).await;
        // Right after a poll, a change waits for the gap.
        assert!(
            t.elapsed() >= LIVE_GAP - Duration::from_millis(20),
            "{:?}",
            t.elapsed()
        );
        let t = Instant::now();
        live.next(Duration::from_millis(500)).await;
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(450) && e < Duration::from_millis(900),
            "{e:?}"
        );
    }
}
