//! This process in Redis: its identity, its heartbeat (Sidekiq's process entry, and the
//! liveness that protects its working set), and the wake-ups its workers wait for.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::adapter::{Inner, RedisAdapter};
use crate::scripts;

/// `hostname:pid:nonce`, as Sidekiq names a process.
pub(crate) fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}:{:012x}", std::process::id(), fastrand::u64(..) >> 16)
}

impl RedisAdapter {
    /// Called by every claim: remembers what workers ask for, and starts the heartbeat the
    /// first time.
    pub(crate) fn note_claim(&self, worker_id: &str, queues: &[String], limit: usize) {
        let inner = &self.inner;
        inner.concurrency.fetch_max(limit, Ordering::Relaxed);
        {
            let mut workers = inner.workers.lock().unwrap();
            if !workers.contains(worker_id) {
                workers.insert(worker_id.to_owned());
            }
        }
        {
            let mut known = inner.queues.lock().unwrap();
            for queue in queues {
                if !known.contains(queue) {
                    known.push(queue.clone());
                }
            }
        }
        if !inner.beating.swap(true, Ordering::AcqRel) {
            tokio::spawn(beat(Arc::downgrade(&self.inner), inner.stop.clone(), inner.settings.process_ttl / 12));
        }
    }

    /// Writes this process's heartbeat now; returns how many jobs it holds.
    pub(crate) async fn beat_once(&self) -> Result<i64, crate::RedisError> {
        let inner = &self.inner;
        let info = serde_json::json!({
            "hostname": inner.identity.split(':').next().unwrap_or_default(),
            "started_at": inner.started,
            "pid": std::process::id(),
            "tag": "",
            "concurrency": inner.concurrency.load(Ordering::Relaxed),
            "queues": *inner.queues.lock().unwrap(),
            "labels": ["jobs (Rust)"],
            "identity": inner.identity,
            "version": concat!("jobs-redis ", env!("CARGO_PKG_VERSION")),
        });
        let (processed, failed) = (inner.processed.swap(0, Ordering::Relaxed), inner.failed.swap(0, Ordering::Relaxed));
        let mut call = self.invocation(&scripts::PROCESS);
        call.arg(info.to_string())
            .arg(inner.settings.process_ttl.as_secs().max(1))
            .arg(rss_kib())
            .arg("false")
            .arg(processed)
            .arg(failed)
            .arg(chrono::Utc::now().format("%Y-%m-%d").to_string());
        let held = self.run(&call).await;
        if held.is_err() {
            // Counted at the next beat instead, as Sidekiq does.
            inner.processed.fetch_add(processed, Ordering::Relaxed);
            inner.failed.fetch_add(failed, Ordering::Relaxed);
        }
        held
    }

    /// Stops this process's heartbeat and removes it from Sidekiq's process list, as a Sidekiq
    /// process does when it stops, adding its last runs to Sidekiq's counters: jobs it still
    /// holds are handed back to their queues by the next worker that looks for expired claims,
    /// at once rather than when the heartbeat would have expired. Call it after the workers have
    /// shut down; enqueueing keeps working.
    pub async fn close(&self) -> Result<(), jobs_core::Error> {
        let inner = &self.inner;
        inner.stop.cancel();
        // A heartbeat in flight would write the entry again after it is removed below, and the
        // process would look alive (holding its jobs) until the entry's TTL ran out: wait for it.
        // Heartbeats that would start later see `stop` and do not run.
        let _no_beat = inner.beat_lock.lock().await;
        Ok(self.leave().await?)
    }

    /// A worker stopped: once none is left, the process leaves Sidekiq's process list, and its
    /// heartbeat pauses until a worker claims again. Workers still running keep it listed.
    pub(crate) async fn forget_worker(&self, worker_id: &str) -> Result<(), crate::RedisError> {
        let inner = &self.inner;
        // Under the heartbeat's lock, so that a beat in flight cannot list the process again.
        let _no_beat = inner.beat_lock.lock().await;
        let none_left = {
            let mut workers = inner.workers.lock().unwrap();
            workers.remove(worker_id);
            workers.is_empty()
        };
        if none_left { self.leave().await } else { Ok(()) }
    }

    /// Removes this process's entry from Sidekiq's process list, adding its last runs to
    /// Sidekiq's counters.
    async fn leave(&self) -> Result<(), crate::RedisError> {
        let inner = &self.inner;
        let key = self.key(&inner.identity);
        let (processed, failed) = (inner.processed.swap(0, Ordering::Relaxed), inner.failed.swap(0, Ordering::Relaxed));
        let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut conn = inner.conn.clone();
        redis::pipe()
            .incr(self.key("stat:processed"), processed)
            .incr(self.key(&format!("stat:processed:{date}")), processed)
            .incr(self.key("stat:failed"), failed)
            .incr(self.key(&format!("stat:failed:{date}")), failed)
            .srem(self.key("processes"), &inner.identity)
            .del(&[key.clone(), format!("{key}:workers"), format!("{key}:work")])
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Subscribes to wake-ups once; the connection resubscribes by itself after reconnecting.
    pub(crate) async fn subscribe(&self) {
        if self.inner.subscribed.load(Ordering::Acquire) {
            return;
        }
        let mut conn = self.inner.conn.clone();
        match conn.subscribe(self.key("jobs:wake")).await {
            Ok(()) => self.inner.subscribed.store(true, Ordering::Release),
            Err(error) => tracing::debug!(target: "jobs", %error, "Could not subscribe to wake-ups; polling"),
        }
    }
}

/// Beats every `every` until the adapter is closed or dropped; a failed beat is retried at the
/// next one.
async fn beat(inner: std::sync::Weak<Inner>, stop: tokio_util::sync::CancellationToken, every: Duration) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {},
            () = stop.cancelled() => return,
        }
        let Some(inner) = inner.upgrade() else { return };
        let adapter = RedisAdapter { inner };
        let _beating = adapter.inner.beat_lock.lock().await;
        if stop.is_cancelled() {
            return;
        }
        if adapter.inner.workers.lock().unwrap().is_empty() {
            continue; // every worker stopped: the process is not listed until one claims again
        }
        if let Err(error) = adapter.beat_once().await {
            tracing::warn!(target: "jobs", %error, "Redis heartbeat failed");
        }
    }
}

/// This process's resident memory in KiB (Sidekiq shows it), 0 where unknown.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
