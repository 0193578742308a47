//! Pickup latency: sequential enqueues on an idle worker, each timed from the call to
//! `perform_later` until the job starts running.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs::Runtime;

use crate::RunError;
use crate::cli::RunSettings;
use crate::stats::Percentiles;
use crate::target::Target;
use crate::workload::{Ping, Probe};

/// Samples taken first and thrown away: connection set-up, first allocations, lazy statics.
const WARM_UP: u64 = 10;

/// Measures `settings.latency_samples` pickups on `target`.
pub(crate) async fn run(target: &Target, settings: &RunSettings) -> Result<Percentiles, RunError> {
    let (probe, mut started) = Probe::new();
    let runtime = Runtime::builder().shared_adapter(target.adapter.clone()).shared_state(Arc::new(probe)).build()?;
    let worker = settings.worker(&runtime).build()?;
    let handle = worker.start();

    let mut samples = Vec::with_capacity(settings.latency_samples as usize);
    let mut failure = None;
    for seq in 0..WARM_UP + settings.latency_samples {
        match pickup(&runtime, seq, &mut started, settings.stall).await {
            Ok(latency) if seq >= WARM_UP => samples.push(latency),
            Ok(_) => {}
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    handle.shutdown().await?;
    match failure {
        Some(error) => Err(error),
        None => Ok(Percentiles::of(samples)),
    }
}

/// Enqueues ping number `seq` and waits until it starts.
async fn pickup(
    runtime: &Runtime,
    seq: u64,
    started: &mut tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)>,
    stall: Duration,
) -> Result<Duration, RunError> {
    let enqueued = Instant::now();
    runtime.perform_later(Ping { seq }).await?;
    loop {
        match tokio::time::timeout(stall, started.recv()).await {
            Ok(Some((got, at))) if got == seq => return Ok(at.saturating_duration_since(enqueued)),
            Ok(Some(_)) => continue, // a late duplicate of an earlier ping (at-least-once)
            Ok(None) => return Err(RunError::Failed("the probe closed".into())),
            Err(_) => return Err(RunError::Failed(format!("ping {seq} did not start within {stall:?}"))),
        }
    }
}
