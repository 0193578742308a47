//! Flow-controlled jobs, declared by hand (as a job without `#[job]` can be), and the ledger
//! of their runs: when each started and ended, by the job's own clock and by the runtime's.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::watch;

use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{
    ConcurrencyLimit, Error, FlowControl, FlowKey, Job, JobContext, JobError, OnConflict, Registry, Throttle, UniqueJob,
};

/// One run of a flow-controlled job.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub(crate) name: String,
    pub(crate) account: u32,
    pub(crate) job_id: String,
    pub(crate) executions: u32,
    pub(crate) start: Instant,
    /// The start on the runtime's clock (the one throttle windows are counted on).
    pub(crate) at: DateTime<Utc>,
    pub(crate) end: Option<Instant>,
}

/// Every run of the flow jobs, and a gate that holds runs of jobs asked to wait for it.
#[derive(Debug)]
pub(crate) struct Ledger {
    spans: Mutex<Vec<Span>>,
    gate: watch::Sender<bool>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger { spans: Mutex::default(), gate: watch::Sender::new(false) }
    }
}

impl Ledger {
    pub(crate) fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    /// Runs of jobs named `name`.
    pub(crate) fn runs_of(&self, name: &str) -> Vec<Span> {
        self.spans().into_iter().filter(|s| s.name == name).collect()
    }

    /// Lets held runs finish.
    pub(crate) fn open(&self) {
        self.gate.send_replace(true);
    }

    /// The most runs of one key (`class` and account) that overlapped in time, and whether every
    /// run has ended.
    pub(crate) fn max_overlap(&self, key: impl Fn(&Span) -> bool) -> (usize, bool) {
        let spans: Vec<Span> = self.spans().into_iter().filter(|s| key(s)).collect();
        let ended = spans.iter().all(|s| s.end.is_some());
        // Ends sort before starts at the same instant: a slot released then taken is no overlap.
        let mut events: Vec<(Instant, i32)> = Vec::new();
        for span in &spans {
            events.push((span.start, 1));
            events.push((span.end.unwrap_or_else(Instant::now), -1));
        }
        events.sort();
        let (mut running, mut most) = (0i32, 0i32);
        for (_, delta) in events {
            running += delta;
            most = most.max(running);
        }
        (most as usize, ended)
    }
}

macro_rules! flow_job {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $flow:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub(crate) struct $ty {
            /// A name for the case to find the run by.
            pub(crate) name: String,
            /// The concurrency, unique or throttle key.
            pub(crate) account: u32,
            /// Fails its first run.
            pub(crate) fail_first: bool,
            /// How long a run takes, unless held.
            pub(crate) sleep_ms: u64,
            /// Waits for the ledger's gate before ending.
            pub(crate) hold: bool,
        }

        impl $ty {
            pub(crate) fn new(name: impl Into<String>, account: u32) -> Self {
                $ty { name: name.into(), account, fail_first: false, sleep_ms: 0, hold: false }
            }
        }

        impl Job for $ty {
            const NAME: &'static str = $name;
            const FLOW: FlowControl = $flow;
            type Output = Result<(), JobError>;

            fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
                Ok(vec![
                    to_argument(Self::NAME, "name", &self.name)?,
                    to_argument(Self::NAME, "account", &self.account)?,
                    to_argument(Self::NAME, "fail_first", &self.fail_first)?,
                    to_argument(Self::NAME, "sleep_ms", &self.sleep_ms)?,
                    to_argument(Self::NAME, "hold", &self.hold)?,
                ])
            }

            fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
                let mut reader = ArgumentsReader::new(Self::NAME, arguments, 5)?;
                Ok($ty {
                    name: reader.next("name")?,
                    account: reader.next("account")?,
                    fail_first: reader.next("fail_first")?,
                    sleep_ms: reader.next("sleep_ms")?,
                    hold: reader.next("hold")?,
                })
            }

            fn flow_key(&self, which: FlowKey) -> Option<String> {
                match which {
                    FlowKey::Concurrency => Some(self.account.to_string()),
                    FlowKey::Throttle | FlowKey::Unique | _ => None,
                }
            }

            async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
                let ledger = ctx.state::<Ledger>()?;
                run(&ledger, &self.name, self.account, &ctx, (self.sleep_ms, self.hold, self.fail_first)).await
            }
        }
    };
}

async fn run(
    ledger: &Ledger,
    name: &str,
    account: u32,
    ctx: &JobContext,
    (sleep_ms, hold, fail_first): (u64, bool, bool),
) -> Result<Result<(), JobError>, Error> {
    let index = {
        let mut spans = ledger.spans.lock().unwrap();
        spans.push(Span {
            name: name.to_owned(),
            account,
            job_id: ctx.job_id().to_owned(),
            executions: ctx.executions(),
            start: Instant::now(),
            at: ctx.runtime().now(),
            end: None,
        });
        spans.len() - 1
    };
    if hold {
        let mut gate = ledger.gate.subscribe();
        let _ = gate.wait_for(|open| *open).await;
    }
    if sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    }
    ledger.spans.lock().unwrap()[index].end = Some(Instant::now());
    if fail_first && ctx.executions() == 1 {
        return Ok(Err(JobError::new("Conformance::FirstRun", "the first run fails")));
    }
    Ok(Ok(()))
}

/// How long a slot of the limited classes is held at most.
pub(crate) const HOLD: Duration = Duration::from_secs(2);

flow_job!(
    /// At most 2 at once per account; a slot is held at most [`HOLD`].
    Limited,
    "Conformance::Limited",
    FlowControl { concurrency: Some(ConcurrencyLimit::to(2).duration(HOLD)), ..FlowControl::NONE }
);

flow_job!(
    /// One at a time per account, in group `single` (shared with [`SingleToo`]).
    Single,
    "Conformance::Single",
    FlowControl { concurrency: Some(ConcurrencyLimit::to(1).duration(HOLD).group("single")), ..FlowControl::NONE }
);

flow_job!(
    /// Another class of group `single`.
    SingleToo,
    "Conformance::SingleToo",
    FlowControl { concurrency: Some(ConcurrencyLimit::to(1).duration(HOLD).group("single")), ..FlowControl::NONE }
);

flow_job!(
    /// One at a time per account; the others are discarded.
    Discarding,
    "Conformance::Discarding",
    FlowControl {
        concurrency: Some(ConcurrencyLimit::to(1).duration(HOLD).on_conflict(OnConflict::Discard)),
        ..FlowControl::NONE
    }
);

flow_job!(
    /// Unique by its arguments, queue and class, in every waiting or running state.
    Once,
    "Conformance::Once",
    FlowControl { unique: Some(UniqueJob::DEFAULT), ..FlowControl::NONE }
);

/// How long [`OnceFor`] holds its key.
pub(crate) const UNIQUE_FOR: Duration = Duration::from_secs(2);

flow_job!(
    /// Unique for [`UNIQUE_FOR`] after its enqueue.
    OnceFor,
    "Conformance::OnceFor",
    FlowControl { unique: Some(UniqueJob::DEFAULT.period(UNIQUE_FOR)), ..FlowControl::NONE }
);

/// Starts per second of [`Throttled`].
pub(crate) const THROTTLE: u32 = 20;

flow_job!(
    /// At most [`THROTTLE`] starts per second, all accounts together.
    Throttled,
    "Conformance::Throttled",
    FlowControl { throttle: Some(Throttle::new(THROTTLE, Duration::from_secs(1))), ..FlowControl::NONE }
);

/// The flow cases' registry.
pub(crate) fn flow_registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register::<Limited>()
        .and_then(|r| r.register::<Single>())
        .and_then(|r| r.register::<SingleToo>())
        .and_then(|r| r.register::<Discarding>())
        .and_then(|r| r.register::<Once>())
        .and_then(|r| r.register::<OnceFor>())
        .and_then(|r| r.register::<Throttled>())
        .expect("the flow jobs register");
    registry
}
