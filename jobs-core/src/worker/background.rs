//! What runs beside the claim loop: batched reports, heartbeats (leases, rescues, the process
//! entry, history), and signals.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::contract::Error;
use crate::contract::{Adapter, Backend, ProcessCommand, Ticket};
use crate::runtime::instrument::names::System;

use super::Report;
use super::process::{Process, Status};
use super::reports::{BATCH, Unsettled};
use super::running::Running;
use super::tally::Tally;

pub(super) async fn join_all(tasks: &mut JoinSet<()>) {
    while tasks.join_next().await.is_some() {}
}

/// Writes completions, failures and releases in batches.
pub(super) async fn flush_reports(
    adapter: Arc<dyn Adapter>,
    mut inbox: mpsc::UnboundedReceiver<Report>,
    unsettled: Arc<Unsettled>,
) {
    let backend = adapter.backend().expect("checked at build");
    let mut batch = Vec::with_capacity(BATCH);
    while inbox.recv_many(&mut batch, BATCH).await > 0 {
        let count = batch.len();
        // Mostly completions: room for all of them at once.
        let mut done = Vec::with_capacity(count);
        let mut requeued = Vec::new();
        let mut failed = Vec::new();
        let mut released = Vec::new();
        for report in batch.drain(..) {
            match report {
                Report::Complete(ticket) => done.push(ticket),
                Report::Requeued(run) => requeued.push(run),
                Report::Fail(failure) => failed.push(failure),
                Report::Release(ticket) => released.push(ticket),
            }
        }
        let system = adapter.name();
        with_retries(system, "complete", || backend.complete(&done), done.len()).await;
        with_retries(system, "complete", || backend.complete_requeued(&requeued), requeued.len()).await;
        with_retries(system, "fail", || backend.fail(&failed), failed.len()).await;
        with_retries(system, "release", || backend.release(&released), released.len()).await;
        unsettled.settle(count);
    }
}

/// Settles a batch of `count` runs with `call`, retrying with backoff, in a span `settle` after
/// OpenTelemetry's messaging conventions (one per batch, not per job).
async fn with_retries<'a, F, Fut>(system: &str, what: &'static str, call: F, count: usize)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, Error>> + 'a,
{
    if count == 0 {
        return;
    }
    let span = tracing::info_span!(
        target: "jobs",
        "settle",
        otel.name = "settle",
        otel.kind = "client",
        messaging.system = %System(system),
        messaging.operation.type = "settle",
        messaging.operation.name = what,
        messaging.batch.message_count = count,
    );
    settle(what, call).instrument(span).await
}

async fn settle<'a, F, Fut>(what: &str, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, Error>> + 'a,
{
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=8 {
        match call().await {
            Ok(_) => return,
            Err(error) if attempt < 8 => {
                tracing::warn!(target: "jobs", %error, "Could not {what} jobs; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                tracing::error!(target: "jobs", %error, "Could not {what} jobs; their leases will expire and they will run again");
            }
        }
    }
}

/// What the heartbeat task works with.
pub(super) struct Heartbeat {
    pub(super) adapter: Arc<dyn Adapter>,
    pub(super) running: Arc<Running>,
    pub(super) lease: Duration,
    pub(super) process: Arc<Process>,
    pub(super) status: Arc<Status>,
    pub(super) tally: Arc<Tally>,
    /// Whether this worker's registry declares concurrency limits: only then does its beat free
    /// expired slots (the workers that run limited jobs keep their keys unblocked).
    pub(super) expire_slots: bool,
    /// Cancelled by a stop command from an operator.
    pub(super) shutdown: CancellationToken,
    /// Cancelled when the worker has stopped: the task ends after its current beat.
    pub(super) done: CancellationToken,
}

/// On every beat (a third of the lease): renews the leases of running jobs, rescues expired ones
/// left by dead workers (and their expired concurrency slots), refreshes the worker's process entry and acts on the command an operator
/// left for it, and writes the history counted since the last beat.
pub(super) async fn heartbeat(beat: Heartbeat) {
    let backend: &dyn Backend = beat.adapter.backend().expect("checked at build");
    let period = beat.lease / 3;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = beat.done.cancelled() => return,
        }
        let tickets: Vec<Ticket> = beat.running.tickets();
        if !tickets.is_empty()
            && let Err(error) = backend.heartbeat(&tickets, beat.lease).await
        {
            tracing::warn!(target: "jobs", %error, "Heartbeat failed");
        }
        match backend.rescue_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(target: "jobs", "Rescued {n} jobs whose worker stopped heartbeating"),
            Err(error) => tracing::warn!(target: "jobs", %error, "Rescuing expired jobs failed"),
        }
        // Concurrency slots whose holder died free after their hold time, unblocking their keys.
        if let Some(flow) = beat.adapter.flow().filter(|_| beat.expire_slots) {
            match flow.expire_slots().await {
                Ok(0) | Err(Error::NotSupported { .. }) => {}
                Ok(n) => tracing::info!(target: "jobs", "Unblocked {n} jobs whose concurrency slots expired"),
                Err(error) => tracing::warn!(target: "jobs", %error, "Expiring concurrency slots failed"),
            }
        }
        let command = beat.process.beat(backend, beat.status.state(), tickets.len(), beat.lease).await;
        obey(command, &beat.status, &beat.shutdown);
        beat.tally.flush(backend).await;
    }
}

/// Acts on a command an operator left for the worker: quiet stops claiming, stop shuts down.
pub(super) fn obey(command: Option<ProcessCommand>, status: &Status, shutdown: &CancellationToken) {
    match command {
        Some(ProcessCommand::Quiet) => {
            tracing::info!(target: "jobs", "Told to go quiet: claiming no more jobs");
            status.quiet.cancel();
        }
        Some(ProcessCommand::Stop) => {
            tracing::info!(target: "jobs", "Told to stop: shutting down");
            shutdown.cancel();
        }
        None => {}
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
