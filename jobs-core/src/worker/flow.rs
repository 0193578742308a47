//! Flow control after a claim: a job whose class has a concurrency limit takes a slot of its key
//! before it runs (or is blocked, or discarded), and gives it back however its run ends; a job
//! whose class has a throttle takes a start of its key's window, or is stored again due at the
//! first free one, with no attempt spent.
//!
//! Jobs without flow control pay nothing here: the worker looks only when its registry has a
//! limited or throttled class, and then reads a payload only if it carries flow keys.

use std::sync::Arc;

use serde::Deserialize;

use crate::contract::{
    Adapter, ClaimedJob, FlowControl, FlowKeys, JobData, OnConflict, SlotOutcome, SlotParams, Throttle, Ticket,
};
use crate::perform::limiter::reserve_start;
use crate::perform::requeue::requeue;
use crate::runtime::{Runtime, instrument};

use super::Report;

/// What flow control decided for a claimed job.
pub(super) enum Gate {
    /// Run it, holding this slot (if its class has a concurrency limit) until the run ends.
    Run(Option<Slot>),
    /// Do not run it: send this report about its claim, if any (a blocked job's claim the store
    /// ended already).
    Skip(Option<Report>),
}

/// The part of a payload flow control reads.
#[derive(Deserialize)]
struct Head {
    job_class: String,
    #[serde(default)]
    flow: Option<FlowKeys>,
}

/// Decides whether `job` runs now. Only called when the registry has a limited or throttled class.
pub(super) async fn gate(runtime: &Runtime, job: &ClaimedJob) -> Gate {
    // Cheap test first: a payload without flow keys (most jobs) is not parsed again here.
    if !job.payload.contains("\"flow\":{") {
        return Gate::Run(None);
    }
    let Ok(Head { job_class, flow: Some(keys) }) = serde_json::from_str::<Head>(&job.payload) else {
        return Gate::Run(None);
    };
    let Some(registration) = runtime.registry().get(&job_class) else { return Gate::Run(None) };
    let declared: FlowControl = *registration.flow();
    let adapter = runtime.adapter();
    let Some(flow) = adapter.flow() else { return Gate::Run(None) };

    let mut slot = None;
    if let (Some(limit), Some(key)) = (declared.concurrency, keys.concurrency.as_deref()) {
        let block = limit.on_conflict == OnConflict::Block;
        let params = SlotParams { ticket: &job.ticket, key, limit: limit.to.max(1), hold: limit.duration, block };
        match flow.acquire_slot(params).await {
            Ok(SlotOutcome::Acquired) => slot = Some(Slot::new(adapter, key, &job.ticket)),
            Ok(SlotOutcome::Blocked) => {
                if let Some(data) = decode(job) {
                    instrument::flow::blocked(&data, key);
                }
                return Gate::Skip(None);
            }
            Ok(SlotOutcome::Full) => {
                if let Some(data) = decode(job) {
                    let log_arguments = registration.log_arguments();
                    instrument::flow::discarded_at_limit(runtime, adapter.name(), &data, log_arguments, key);
                }
                return Gate::Skip(Some(Report::Complete(job.ticket.clone())));
            }
            Ok(SlotOutcome::Stale) => return Gate::Skip(None),
            Err(error) => {
                tracing::warn!(target: "jobs", %error, "Could not take a concurrency slot of {key}; handing the job back");
                return Gate::Skip(Some(Report::Release(job.ticket.clone())));
            }
        }
    }

    if let (Some(throttle), Some(key)) = (declared.throttle, keys.throttle.as_deref())
        && !holds_start(runtime, &keys, &throttle)
    {
        let delayed = delay(runtime, job, key, throttle, registration.log_arguments()).await;
        if let Some(report) = delayed {
            if let Some(slot) = slot.take() {
                slot.release().await;
            }
            return Gate::Skip(Some(report));
        }
    }
    Gate::Run(slot)
}

/// Whether the job carries a start its throttle reserved, still in its window.
fn holds_start(runtime: &Runtime, keys: &FlowKeys, throttle: &Throttle) -> bool {
    let Some(start) = keys.throttle_slot else { return false };
    let period = chrono::Duration::from_std(throttle.period).unwrap_or(chrono::Duration::MAX);
    runtime.now() < start.checked_add_signed(period).unwrap_or(start)
}

/// Takes a start of the throttle's `key`: `None` when the job may start now; otherwise the job
/// is stored again due at its reserved start and the report ends this claim.
async fn delay(
    runtime: &Runtime,
    job: &ClaimedJob,
    key: &str,
    throttle: Throttle,
    log_arguments: bool,
) -> Option<Report> {
    let flow = runtime.adapter().flow()?;
    let now = runtime.now();
    let start = match reserve_start(flow, key, throttle.limit.max(1), throttle.period, now).await {
        Ok(start) => start,
        Err(error) => {
            tracing::warn!(target: "jobs", %error, "Could not count a start of throttle {key}; handing the job back");
            return Some(Report::Release(job.ticket.clone()));
        }
    };
    let wait = (start - now).to_std().ok().filter(|wait| !wait.is_zero())?;
    let mut data = decode(job)?;
    data.flow.get_or_insert_with(FlowKeys::default).throttle_slot = Some(start);
    match requeue(runtime, data.clone(), Some(wait), "throttled jobs").await {
        Ok(_) => {
            instrument::flow::throttled(runtime, runtime.adapter().name(), &data, log_arguments, wait);
            Some(Report::Complete(job.ticket.clone()))
        }
        Err(error) => {
            tracing::warn!(target: "jobs", %error, "Could not delay throttled {}; handing it back", data.job_class);
            Some(Report::Release(job.ticket.clone()))
        }
    }
}

fn decode(job: &ClaimedJob) -> Option<JobData> {
    let mut data = JobData::from_json(&job.payload).ok()?;
    data.provider_job_id = Some(job.ticket.id.clone());
    Some(data)
}

/// A concurrency slot held by a running job under its claim. Released when the run ends, through
/// [`Slot::release`]; a slot dropped without it (a run aborted at shutdown) is released in the
/// background. The release names the claim, so that a run whose lease was taken away frees
/// nothing once a rescued rerun of its job holds the slot.
pub(super) struct Slot {
    adapter: Arc<dyn Adapter>,
    key: String,
    ticket: Ticket,
    released: bool,
}

impl Slot {
    fn new(adapter: &Arc<dyn Adapter>, key: &str, ticket: &Ticket) -> Self {
        Slot { adapter: adapter.clone(), key: key.to_owned(), ticket: ticket.clone(), released: false }
    }

    /// Gives the slot back: the first job blocked on its key becomes ready.
    pub(super) async fn release(mut self) {
        self.released = true;
        release(&*self.adapter, &self.key, &self.ticket).await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (adapter, key, ticket) = (self.adapter.clone(), std::mem::take(&mut self.key), self.ticket.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { release(&*adapter, &key, &ticket).await });
        }
    }
}

async fn release(adapter: &dyn Adapter, key: &str, ticket: &Ticket) {
    let Some(flow) = adapter.flow() else { return };
    if let Err(error) = flow.release_slot(key, ticket).await {
        tracing::warn!(target: "jobs", %error, "Could not release the concurrency slot of {key}; it frees when its hold time is over");
    }
}
