//! Worker processes in Redis, in Sidekiq's layout so that Sidekiq's Web UI (Busy page) and API
//! (`Sidekiq::ProcessSet`, `Sidekiq::Workers`) show Rust workers as they show Sidekiq's own.
//!
//! Each worker is one Sidekiq process entry, named by its worker id (the `identity`): the
//! `processes` set, the hash `ID` (`info` JSON, `busy`, `beat`, `quiet`, `rss`, `rtt_us`, with the
//! time to live the worker gives), `ID:work` (Sidekiq 7) and `ID:workers` (Sidekiq 6) with the
//! jobs it runs (field: the claim token, standing for Sidekiq's thread id; value:
//! `{queue, payload, run_at}`), and `ID-signals`, where Sidekiq's Web UI pushes `TSTP` (quiet)
//! and `TERM` (stop). Several workers may share one adapter; each is its own entry, with its own
//! queues, concurrency and quiet state.
//!
//! Apart from that, the adapter (one per OS process, usually) has its own identity,
//! `hostname:pid:nonce`: its working set `jobs:working:IDENTITY` and the liveness key `IDENTITY`
//! that protects it. Claims, lease heartbeats and every worker's beat keep that key alive; once
//! it has expired, any process hands the jobs of that working set back to their queues.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jobs_core::{ProcessCommand, ProcessInfo, ProcessState};

use crate::adapter::RedisAdapter;
use crate::envelope;
use crate::error::RedisError;
use crate::inspect::server_time;
use crate::scripts;

/// `hostname:pid:nonce`, as Sidekiq names a process.
pub(crate) fn identity() -> String {
    format!("{}:{}:{:012x}", jobs_core::adapter::hostname(), std::process::id(), fastrand::u64(..) >> 16)
}

/// Sidekiq's `quiet` field for a state.
fn quiet_field(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "false",
        ProcessState::Quiet => "true",
        ProcessState::Stopping => "stopping",
    }
}

impl RedisAdapter {
    /// Called by every claim: remembers the worker, so that closing the adapter removes its entry.
    pub(crate) fn note_claim(&self, worker_id: &str) {
        let mut workers = self.inner.workers.lock().unwrap();
        if !workers.contains(worker_id) {
            workers.insert(worker_id.to_owned());
        }
    }

    /// How long this adapter's working set stays protected after a sign of life: the process TTL,
    /// or longer when a worker beats or renews its leases less often.
    pub(crate) fn liveness(&self, at_least: Duration) -> u64 {
        self.inner.settings.process_ttl.max(at_least).as_secs().max(1)
    }

    pub(crate) async fn beat(&self, info: &ProcessInfo, ttl: Duration) -> Result<Option<ProcessCommand>, RedisError> {
        let inner = &self.inner;
        let _no_leave = inner.beat_lock.lock().await;
        if inner.stopped.lock().unwrap().contains(&info.id) {
            return Ok(None); // a beat that lost the race with the worker's stop lists it no more
        }
        self.note_claim(&info.id);
        let started = envelope::seconds(info.started_at);
        let sidekiq = serde_json::json!({
            "hostname": info.hostname,
            "started_at": started,
            "pid": info.pid,
            "tag": "",
            "concurrency": info.concurrency,
            "queues": info.queues,
            "labels": ["jobs (Rust)"],
            "identity": info.id,
            "version": info.version,
            "embedded": false,
            // Sidekiq keeps float seconds; the exact time too, for `processes`.
            "jobs_started_at": info.started_at,
        });
        let (processed, failed) = (inner.processed.swap(0, Ordering::Relaxed), inner.failed.swap(0, Ordering::Relaxed));
        let mut call = self.invocation(&scripts::BEAT);
        call.arg(&info.id)
            .arg(sidekiq.to_string())
            .arg(ttl.as_millis().max(1) as u64)
            .arg(info.busy)
            .arg(quiet_field(info.state))
            .arg(rss_kib())
            .arg(processed)
            .arg(failed)
            .arg(chrono::Utc::now().format("%Y-%m-%d").to_string())
            .arg(self.liveness(ttl));
        let signals: Vec<String> = match self.run(&call).await {
            Ok(signals) => signals,
            Err(error) => {
                // Counted at the next beat instead, as Sidekiq does.
                inner.processed.fetch_add(processed, Ordering::Relaxed);
                inner.failed.fetch_add(failed, Ordering::Relaxed);
                return Err(error);
            }
        };
        let stop = signals.iter().any(|s| s == "TERM");
        let quiet = signals.iter().any(|s| s == "TSTP");
        Ok(if stop {
            Some(ProcessCommand::Stop)
        } else if quiet {
            Some(ProcessCommand::Quiet)
        } else {
            None
        })
    }

    pub(crate) async fn live_processes(&self) -> Result<Vec<ProcessInfo>, RedisError> {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Info {
            hostname: String,
            pid: u32,
            version: Option<String>,
            queues: Vec<serde_json::Value>,
            concurrency: usize,
            started_at: f64,
            jobs_started_at: Option<chrono::DateTime<chrono::Utc>>,
        }
        let reply: Vec<String> = self.run(&self.invocation(&scripts::PROCESSES)).await?;
        let mut reply = reply.into_iter();
        let _now = server_time(reply.next())?;
        let mut processes = Vec::new();
        while let (Some(id), Some(info), Some(busy), Some(beat), Some(quiet)) =
            (reply.next(), reply.next(), reply.next(), reply.next(), reply.next())
        {
            let info: Info = serde_json::from_str(&info).unwrap_or_default();
            // Sidekiq 7 lists weighted queues as [name, weight] pairs.
            let queues = info
                .queues
                .iter()
                .filter_map(|q| q.as_str().or_else(|| q.get(0).and_then(|q| q.as_str())).map(str::to_owned))
                .collect();
            processes.push(ProcessInfo {
                id,
                hostname: info.hostname,
                pid: info.pid,
                version: info.version.unwrap_or_else(|| "Sidekiq".to_owned()),
                queues,
                concurrency: info.concurrency,
                busy: busy.parse().unwrap_or(0),
                started_at: info.jobs_started_at.unwrap_or_else(|| envelope::from_seconds(info.started_at)),
                last_heartbeat: envelope::from_seconds(beat.parse().unwrap_or(0.0)),
                state: match quiet.as_str() {
                    "true" => ProcessState::Quiet,
                    "stopping" => ProcessState::Stopping,
                    _ => ProcessState::Running,
                },
            });
        }
        Ok(processes)
    }

    pub(crate) async fn signal_process(&self, id: &str, command: ProcessCommand) -> Result<bool, RedisError> {
        let mut call = self.invocation(&scripts::SIGNAL);
        call.arg(id).arg(match command {
            ProcessCommand::Quiet => "TSTP",
            ProcessCommand::Stop => "TERM",
        });
        Ok(self.run::<i64>(&call).await? == 1)
    }

    /// Removes every worker of this adapter from Sidekiq's process list and drops its liveness
    /// key, adding its last runs to Sidekiq's counters: jobs it still holds are handed back to
    /// their queues by the next worker that looks for expired claims, at once rather than when
    /// the liveness would have expired. Call it after the workers have shut down; enqueueing keeps
    /// working.
    pub async fn close(&self) -> Result<(), jobs_core::Error> {
        let _no_beat = self.inner.beat_lock.lock().await;
        let workers: Vec<String> = self.inner.workers.lock().unwrap().drain().collect();
        self.inner.stopped.lock().unwrap().extend(workers.iter().cloned());
        Ok(self.leave(&workers, true).await?)
    }

    /// A worker stopped: its entry leaves Sidekiq's process list; once none is left, the
    /// adapter's liveness key goes too.
    pub(crate) async fn forget_worker(&self, worker_id: &str) -> Result<(), RedisError> {
        let _no_beat = self.inner.beat_lock.lock().await;
        self.inner.stopped.lock().unwrap().insert(worker_id.to_owned());
        let none_left = {
            let mut workers = self.inner.workers.lock().unwrap();
            workers.remove(worker_id);
            workers.is_empty()
        };
        self.leave(&[worker_id.to_owned()], none_left).await
    }

    async fn leave(&self, workers: &[String], last: bool) -> Result<(), RedisError> {
        let inner = &self.inner;
        let (processed, failed) = (inner.processed.swap(0, Ordering::Relaxed), inner.failed.swap(0, Ordering::Relaxed));
        let mut call = self.invocation(&scripts::LEAVE);
        call.arg(processed).arg(failed).arg(chrono::Utc::now().format("%Y-%m-%d").to_string()).arg(if last {
            "1"
        } else {
            "0"
        });
        for worker in workers {
            call.arg(worker);
        }
        let left = self.run::<i64>(&call).await;
        if left.is_err() {
            inner.processed.fetch_add(processed, Ordering::Relaxed);
            inner.failed.fetch_add(failed, Ordering::Relaxed);
        }
        left.map(|_| ())
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
