//! The jobs the conformance cases enqueue, and the probe they report to.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::watch;

// Declarations are what `#[job(retry_on(..))]` writes; a job declared by hand names them here.
use jobs_core::__private::{Declarations, ErrorHandler, RetryOn, Wait};
use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{BoxError, Error, Job, JobContext, JobError, Registry};

mod flow;
mod import;
mod snoozy;

pub(crate) use flow::{
    Discarding, HOLD, Ledger, Limited, Once, OnceFor, Single, SingleToo, THROTTLE, Throttled, UNIQUE_FOR, flow_registry,
};
pub(crate) use import::{Import, Imports};
pub(crate) use snoozy::Snoozy;

/// One performed run, as a job saw it.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub(crate) key: String,
    pub(crate) job_id: String,
    pub(crate) provider_job_id: Option<String>,
    pub(crate) queue: String,
    pub(crate) priority: Option<i32>,
    pub(crate) executions: u32,
    pub(crate) at: DateTime<Utc>,
    pub(crate) scheduled_at: Option<DateTime<Utc>>,
    pub(crate) arguments: Vec<Value>,
}

/// What the conformance jobs did; application state of the case's runtime.
#[derive(Debug)]
pub(crate) struct Probe {
    runs: Mutex<Vec<Run>>,
    started: Mutex<Vec<String>>,
    echoes: Mutex<Vec<Echo>>,
    gate: watch::Sender<bool>,
    pub(crate) imports: Imports,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            runs: Mutex::default(),
            started: Mutex::default(),
            echoes: Mutex::default(),
            gate: watch::Sender::new(false),
            imports: Imports::default(),
        }
    }
}

impl Probe {
    fn record(&self, key: &str, ctx: &JobContext) {
        let run = Run {
            key: key.to_owned(),
            job_id: ctx.job_id().to_owned(),
            provider_job_id: ctx.provider_job_id().map(str::to_owned),
            queue: ctx.queue().to_owned(),
            priority: ctx.priority(),
            executions: ctx.executions(),
            at: ctx.runtime().now(),
            scheduled_at: ctx.scheduled_at(),
            arguments: ctx.data().arguments.clone(),
        };
        self.runs.lock().unwrap().push(run);
    }

    /// Every run so far, in the order they happened.
    pub(crate) fn runs(&self) -> Vec<Run> {
        self.runs.lock().unwrap().clone()
    }

    /// The runs of the job with key `key`.
    pub(crate) fn runs_of(&self, key: &str) -> Vec<Run> {
        self.runs.lock().unwrap().iter().filter(|r| r.key == key).cloned().collect()
    }

    /// How many times the job with key `key` ran.
    pub(crate) fn count(&self, key: &str) -> usize {
        self.runs.lock().unwrap().iter().filter(|r| r.key == key).count()
    }

    /// Keys of the blocking jobs that have started, in order.
    pub(crate) fn started(&self) -> Vec<String> {
        self.started.lock().unwrap().clone()
    }

    /// The decoded arguments of every [`Echo`] run.
    pub(crate) fn echoes(&self) -> Vec<Echo> {
        self.echoes.lock().unwrap().clone()
    }

    /// Lets blocking jobs finish.
    pub(crate) fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    async fn gate_opened(&self) {
        let mut gate = self.gate.subscribe();
        let _ = gate.wait_for(|open| *open).await;
    }
}

/// The error the failing conformance job returns.
#[derive(Debug)]
pub(crate) struct ConformanceError(pub(crate) String);

impl fmt::Display for ConformanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConformanceError {}

/// Records that it ran.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) key: String,
}

impl Record {
    pub(crate) fn new(key: impl Into<String>) -> Self {
        Record { key: key.into() }
    }
}

impl Job for Record {
    const NAME: &'static str = "Conformance::Record";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "key", &self.key)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 1)?;
        Ok(Record { key: reader.next("key")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        tokio::task::yield_now().await;
        ctx.state::<Probe>()?.record(&self.key, &ctx);
        Ok(())
    }
}

/// Arguments of many JSON shapes; records them as decoded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Echo {
    pub(crate) text: String,
    pub(crate) big: u64,
    pub(crate) negative: i64,
    pub(crate) ratio: f64,
    pub(crate) flags: Vec<bool>,
    pub(crate) nested: BTreeMap<String, Option<Vec<i32>>>,
    pub(crate) nothing: Option<String>,
}

impl Job for Echo {
    const NAME: &'static str = "Conformance::Echo";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![
            to_argument(Self::NAME, "text", &self.text)?,
            to_argument(Self::NAME, "big", &self.big)?,
            to_argument(Self::NAME, "negative", &self.negative)?,
            to_argument(Self::NAME, "ratio", &self.ratio)?,
            to_argument(Self::NAME, "flags", &self.flags)?,
            to_argument(Self::NAME, "nested", &self.nested)?,
            to_argument(Self::NAME, "nothing", &self.nothing)?,
        ])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 7)?;
        Ok(Echo {
            text: reader.next("text")?,
            big: reader.next("big")?,
            negative: reader.next("negative")?,
            ratio: reader.next("ratio")?,
            flags: reader.next("flags")?,
            nested: reader.next("nested")?,
            nothing: reader.next("nothing")?,
        })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let probe = ctx.state::<Probe>()?;
        probe.echoes.lock().unwrap().push(self);
        probe.record("echo", &ctx);
        Ok(())
    }
}

/// Fails its first `failures` executions, then succeeds; records every run.
#[derive(Debug)]
pub(crate) struct FailTimes {
    pub(crate) key: String,
    pub(crate) failures: u32,
}

impl Job for FailTimes {
    const NAME: &'static str = "Conformance::FailTimes";
    type Output = Result<(), ConformanceError>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "key", &self.key)?, to_argument(Self::NAME, "failures", &self.failures)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(FailTimes { key: reader.next("key")?, failures: reader.next("failures")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        ctx.state::<Probe>()?.record(&self.key, &ctx);
        if ctx.executions() <= self.failures {
            return Ok(Err(ConformanceError(format!("{} failed on execution {}", self.key, ctx.executions()))));
        }
        Ok(Ok(()))
    }
}

/// Fails its first `failures` executions with a [`ConformanceError`] that its `retry_on` handles
/// (up to 5 runs, 300 ms apart, no jitter), then succeeds; records every run.
#[derive(Debug)]
pub(crate) struct RetryOnFailure {
    pub(crate) key: String,
    pub(crate) failures: u32,
}

/// The wait of [`RetryOnFailure`]'s `retry_on`.
pub(crate) const RETRY_ON_WAIT: Duration = Duration::from_millis(300);

fn is_conformance_error(error: &JobError) -> bool {
    error.is::<ConformanceError>()
}

impl Job for RetryOnFailure {
    const NAME: &'static str = "Conformance::RetryOnFailure";
    // What `#[job(retry_on(ConformanceError, wait = 300ms, attempts = 5, jitter = 0))]` declares.
    const DECLARATIONS: &'static Declarations = &Declarations {
        error_handlers: &[ErrorHandler::RetryOn(RetryOn {
            key: "[Conformance::Error]",
            matches: is_conformance_error,
            attempts: Some(5),
            wait: Wait::Fixed(RETRY_ON_WAIT),
            jitter: Some(0.0),
            queue: None,
            priority: None,
            exhausted: None,
        })],
        ..Declarations::EMPTY
    };
    type Output = Result<(), ConformanceError>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "key", &self.key)?, to_argument(Self::NAME, "failures", &self.failures)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(RetryOnFailure { key: reader.next("key")?, failures: reader.next("failures")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        ctx.state::<Probe>()?.record(&self.key, &ctx);
        if ctx.executions() <= self.failures {
            return Ok(Err(ConformanceError(format!("{} failed on execution {}", self.key, ctx.executions()))));
        }
        Ok(Ok(()))
    }
}

/// Always fails with a boxed error: a boxed [`ConformanceError`], or (`message_only`) a bare
/// message, as `Err("..".into())` makes one.
#[derive(Debug)]
pub(crate) struct FailBoxed {
    pub(crate) key: String,
    pub(crate) message_only: bool,
}

impl Job for FailBoxed {
    const NAME: &'static str = "Conformance::FailBoxed";
    type Output = Result<(), BoxError>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![
            to_argument(Self::NAME, "key", &self.key)?,
            to_argument(Self::NAME, "message_only", &self.message_only)?,
        ])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(FailBoxed { key: reader.next("key")?, message_only: reader.next("message_only")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        ctx.state::<Probe>()?.record(&self.key, &ctx);
        let message = format!("{} failed", self.key);
        Ok(Err(if self.message_only { message.into() } else { Box::new(ConformanceError(message)) }))
    }
}

/// Waits until the probe's gate opens, then records its run. On a stop signal a cooperative one
/// gives up with an error; a stubborn one keeps waiting until it is abandoned.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) key: String,
    pub(crate) cooperative: bool,
}

impl Job for Block {
    const NAME: &'static str = "Conformance::Block";
    type Output = Result<(), ConformanceError>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "key", &self.key)?, to_argument(Self::NAME, "cooperative", &self.cooperative)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(Block { key: reader.next("key")?, cooperative: reader.next("cooperative")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let probe = ctx.state::<Probe>()?;
        probe.started.lock().unwrap().push(self.key.clone());
        if self.cooperative {
            tokio::select! {
                () = probe.gate_opened() => {}
                () = ctx.stopped() => return Ok(Err(ConformanceError(format!("{} stopped", self.key)))),
            }
        } else {
            probe.gate_opened().await;
        }
        probe.record(&self.key, &ctx);
        Ok(Ok(()))
    }
}

/// The registry of a case's runtime: the conformance jobs and nothing else.
pub(crate) fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register::<Record>()
        .and_then(|r| r.register::<Echo>())
        .and_then(|r| r.register::<FailTimes>())
        .and_then(|r| r.register::<RetryOnFailure>())
        .and_then(|r| r.register::<Block>())
        .and_then(|r| r.register::<FailBoxed>())
        .and_then(|r| r.register::<Import>())
        .and_then(|r| r.register::<Snoozy>())
        .expect("conformance jobs have distinct names");
    registry
}
