//! What runs beside the claim loop: batched reports, heartbeats and rescues, and signals.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::contract::Error;
use crate::contract::{Adapter, Backend, Ticket};

use super::Report;

pub(super) async fn join_all(tasks: &mut JoinSet<()>) {
    while tasks.join_next().await.is_some() {}
}

/// Writes completions, failures and releases in batches.
pub(super) async fn flush_reports(adapter: Arc<dyn Adapter>, mut inbox: mpsc::UnboundedReceiver<Report>) {
    let backend = adapter.backend().expect("checked at build");
    let mut batch = Vec::with_capacity(1024);
    while inbox.recv_many(&mut batch, 1024).await > 0 {
        let mut done = Vec::new();
        let mut failed = Vec::new();
        let mut released = Vec::new();
        for report in batch.drain(..) {
            match report {
                Report::Complete(ticket) => done.push(ticket),
                Report::Fail(failure) => failed.push(failure),
                Report::Release(ticket) => released.push(ticket),
            }
        }
        with_retries("complete", || backend.complete(&done), done.is_empty()).await;
        with_retries("fail", || backend.fail(&failed), failed.is_empty()).await;
        with_retries("release", || backend.release(&released), released.is_empty()).await;
    }
}

async fn with_retries<'a, F, Fut>(what: &str, call: F, skip: bool)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, Error>> + 'a,
{
    if skip {
        return;
    }
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

/// Renews the leases of running jobs, and rescues expired ones left by dead workers.
pub(super) async fn heartbeat(
    adapter: Arc<dyn Adapter>,
    running: Arc<Mutex<HashMap<String, Ticket>>>,
    lease: Duration,
) {
    let backend: &dyn Backend = adapter.backend().expect("checked at build");
    let mut ticks = tokio::time::interval(lease / 3);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let tickets: Vec<Ticket> = running.lock().unwrap().values().cloned().collect();
        if !tickets.is_empty()
            && let Err(error) = backend.heartbeat(&tickets, lease).await
        {
            tracing::warn!(target: "jobs", %error, "Heartbeat failed");
        }
        match backend.rescue_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(target: "jobs", "Rescued {n} jobs whose worker stopped heartbeating"),
            Err(error) => tracing::warn!(target: "jobs", %error, "Rescuing expired jobs failed"),
        }
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
