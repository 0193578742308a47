//! Wake-ups: one LISTEN connection per adapter turns notifications into wake-ups of this
//! process's waiting workers; polling covers the time it is down.
//!
//! Notifications carry a queue name and nothing else. The listener counts them per queue; a
//! worker notes the count for its queues when it claims, and waits only while it is unchanged,
//! so a notification that arrives between an empty claim and the wait is not lost, and a burst
//! of notifications wakes each waiting worker once. When the connection drops, the listener
//! reconnects with backoff and wakes every worker, since notifications sent meanwhile are gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Counts of notifications, and the workers waiting for them.
#[derive(Debug, Default)]
pub(crate) struct Wakeups {
    counts: Mutex<Counts>,
    changed: Notify,
    /// What each set of queues had seen when a worker last claimed from it.
    claimed_at: Mutex<HashMap<Vec<String>, u64>>,
    started: std::sync::OnceLock<()>,
    stop: CancellationToken,
}

#[derive(Debug, Default)]
struct Counts {
    /// Bumped when every worker should look again (reconnects).
    everyone: u64,
    /// Every notification, for workers of `*`.
    any: u64,
    per_queue: HashMap<String, u64>,
}

impl Wakeups {
    /// A number that changes whenever a notification for one of `queues` arrives.
    fn stamp(&self, queues: &[String]) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut stamp = counts.everyone;
        for queue in queues {
            stamp += if queue == "*" { counts.any } else { counts.per_queue.get(queue).copied().unwrap_or(0) };
        }
        stamp
    }

    /// Notes that a worker of `queues` is about to claim: later notifications wake it.
    pub(crate) fn claiming(&self, queues: &[String]) {
        let stamp = self.stamp(queues);
        self.claimed_at.lock().unwrap_or_else(|e| e.into_inner()).insert(queues.to_vec(), stamp);
    }

    /// Waits until a notification for `queues` arrived since the last claim, or `timeout` passed.
    pub(crate) async fn wait(&self, queues: &[String], timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let seen = self.claimed_at.lock().unwrap_or_else(|e| e.into_inner()).get(queues).copied();
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if seen.is_some_and(|seen| seen != self.stamp(queues)) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
            if seen.is_none() {
                return;
            }
        }
    }

    fn notified(&self, queue: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.any += 1;
        *counts.per_queue.entry(queue.to_owned()).or_default() += 1;
        drop(counts);
        self.changed.notify_waiters();
    }

    fn wake_everyone(&self) {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).everyone += 1;
        self.changed.notify_waiters();
    }

    /// Starts the listener the first time a worker needs it.
    pub(crate) fn start(self: &Arc<Self>, options: &PgConnectOptions, channel: &str) {
        self.started.get_or_init(|| {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(options.clone());
            tokio::spawn(listen(Arc::downgrade(self), pool, channel.to_owned(), self.stop.clone()));
        });
    }

    /// Stops the listener.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }
}

/// Keeps a LISTEN connection up and counts what arrives on it, until `stop` or until the adapter
/// is gone.
async fn listen(wakeups: std::sync::Weak<Wakeups>, pool: sqlx::PgPool, channel: String, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    let mut lost = false;
    loop {
        let connected = tokio::select! {
            connected = subscribe(&pool, &channel) => connected,
            () = stop.cancelled() => return,
        };
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(error) => {
                if !lost {
                    tracing::warn!(target: "jobs", %error,
                        "PostgreSQL LISTEN connection failed; workers poll until it is back, reconnecting with backoff");
                    lost = true;
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {},
                    () = stop.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if std::mem::take(&mut lost) {
            tracing::info!(target: "jobs", "PostgreSQL LISTEN connection is back; wake-ups resume");
        }
        backoff = Duration::from_millis(100);
        let Some(wake) = wakeups.upgrade() else { return };
        wake.wake_everyone();
        drop(wake);
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                () = stop.cancelled() => return,
            };
            let Some(wake) = wakeups.upgrade() else { return };
            match received {
                Ok(Some(notification)) => wake.notified(notification.payload()),
                Ok(None) => {
                    tracing::warn!(target: "jobs", "PostgreSQL LISTEN connection was lost and re-established");
                    wake.wake_everyone();
                }
                Err(error) => {
                    tracing::warn!(target: "jobs", %error,
                        "PostgreSQL LISTEN connection lost; workers poll until it is back, reconnecting");
                    lost = true;
                    wake.wake_everyone();
                    break;
                }
            }
        }
    }
}

async fn subscribe(pool: &sqlx::PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(channel).await?;
    Ok(listener)
}
