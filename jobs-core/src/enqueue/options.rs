//! Enqueue options: `MyJob::set().wait(..).queue(..).priority(..)`, then `perform_later(..)`.

use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::{Error, FromArgs, Job};
use crate::enqueue::{Enqueued, PendingJob};
use crate::runtime::Runtime;

/// Calls `$each!` once per arity a `#[job]` may have (0 to [`MAX_ARGUMENTS`] serialized
/// parameters), with the parameter names and types of that arity: one list for every layer that
/// adds positional methods to [`ConfiguredJob`].
macro_rules! for_each_arity {
    ($each:ident) => {
        $each!();
        $each!(a: A);
        $each!(a: A, b: B);
        $each!(a: A, b: B, c: C);
        $each!(a: A, b: B, c: C, d: D);
        $each!(a: A, b: B, c: C, d: D, e: E);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K, k: L);
        $each!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K, k: L, l: M);
    };
}
pub(crate) use for_each_arity;

/// When a job should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    Wait(Duration),
    At(DateTime<Utc>),
}

/// Options of one enqueue: queue, priority, schedule and, optionally, an explicit runtime.
#[derive(Clone, Debug, Default)]
pub(crate) struct EnqueueOptions {
    pub(crate) queue: Option<String>,
    pub(crate) priority: Option<i32>,
    pub(crate) when: Option<When>,
    pub(crate) runtime: Option<Runtime>,
}

impl EnqueueOptions {
    /// The runtime set in these options, else the current one.
    pub(crate) fn runtime(&self) -> Result<Runtime, Error> {
        match &self.runtime {
            Some(runtime) => Ok(runtime.clone()),
            None => Runtime::current(),
        }
    }
}

/// A job class with enqueue options set, waiting for its arguments: what `MyJob::set()` returns.
///
/// ```no_run
/// # use jobs_core::{ConfiguredJob, Job};
/// # use std::time::Duration;
/// # async fn demo<J: Job>(job: J) -> Result<(), jobs_core::Error> {
/// // `#[job]` gives `MyJob::set()`, and `perform_later(..)` taking the job's parameters.
/// ConfiguredJob::<J>::new()
///     .wait(Duration::from_secs(60))
///     .queue("low")
///     .priority(10)
///     .enqueue(job)
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a configured job does nothing until `perform_later` or `perform_now` is called"]
pub struct ConfiguredJob<J, Args = ()> {
    pub(crate) options: EnqueueOptions,
    _job: PhantomData<fn() -> (J, Args)>,
}

impl<J: Job, Args> Default for ConfiguredJob<J, Args> {
    fn default() -> Self {
        ConfiguredJob { options: EnqueueOptions::default(), _job: PhantomData }
    }
}

impl<J: Job, Args> ConfiguredJob<J, Args> {
    /// No options set: the job's default queue and priority, run as soon as possible.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the job after `delay`.
    pub fn wait(mut self, delay: Duration) -> Self {
        self.options.when = Some(When::Wait(delay));
        self
    }

    /// Runs the job at `time` (or as soon as possible if `time` is past).
    pub fn wait_until(mut self, time: DateTime<Utc>) -> Self {
        self.options.when = Some(When::At(time));
        self
    }

    /// Sends the job to `queue` instead of its default queue.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.options.queue = Some(queue.into());
        self
    }

    /// Gives the job this priority (lower runs first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.options.priority = Some(priority);
        self
    }

    /// Enqueues on `runtime` instead of the current one.
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.options.runtime = Some(runtime.clone());
        self
    }

    /// Enqueues an already built job with these options.
    pub async fn enqueue(self, job: J) -> Result<Enqueued, Error> {
        self.build(job).enqueue().await
    }

    /// A pending job with these options, for [`perform_all_later`](crate::perform_all_later).
    pub fn build(self, job: J) -> PendingJob {
        PendingJob::with_options(job, self.options)
    }
}

macro_rules! positional {
    ($($arg:ident: $ty:ident),*) => {
        impl<J: FromArgs<($($ty,)*)>, $($ty),*> ConfiguredJob<J, ($($ty,)*)> {
            /// Enqueues the job with these arguments; returns its handle.
            #[allow(clippy::too_many_arguments)]
            pub async fn perform_later(self, $($arg: $ty),*) -> Result<Enqueued, Error> {
                self.enqueue(J::from_args(($($arg,)*))).await
            }
        }
    };
}

for_each_arity!(positional);

/// The most serialized parameters a `#[job]` function may take.
pub const MAX_ARGUMENTS: usize = 12;
