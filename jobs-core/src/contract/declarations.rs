//! What `#[job]` declares about a job besides its code: error handling and callbacks.
//!
//! The macro builds a `&'static Declarations` for each job ([`Job::DECLARATIONS`]); a job
//! implemented by hand can build one too, or keep the empty default.
//!
//! [`Job::DECLARATIONS`]: crate::Job::DECLARATIONS

use std::fmt;
use std::time::Duration;

use super::adapter::BoxFuture;
use super::context::JobContext;
use super::error::{Error, JobError};
use super::payload::JobData;

/// Tells whether an error is one a declaration handles.
pub type Matcher = fn(&JobError) -> bool;

/// A handler of a job's error (`rescue_from`, `discard_on`, an exhausted `retry_on`): `Ok` means
/// handled; an `Err` is raised in its place.
pub type ErrorHandlerFn = for<'a> fn(&'a JobContext, &'a JobError) -> BoxFuture<'a, Result<(), JobError>>;

/// A `before_enqueue` / `after_enqueue` callback; a `before_` one halts with `Err`.
pub type EnqueueCallbackFn = for<'a> fn(&'a JobData) -> BoxFuture<'a, Result<(), Halt>>;

/// A `before_perform` / `after_perform` callback; a `before_` one halts with `Err`.
pub type PerformCallbackFn = for<'a> fn(&'a JobContext) -> BoxFuture<'a, Result<(), Halt>>;

/// An `around_enqueue` callback: do something, call `next.run().await`, do something else.
pub type AroundEnqueueFn = for<'a> fn(&'a JobData, NextEnqueue<'a>) -> BoxFuture<'a, Result<(), Error>>;

/// An `around_perform` callback: do something, call `next.run().await`, do something else.
pub type AroundPerformFn = for<'a> fn(&'a JobContext, NextPerform<'a>) -> BoxFuture<'a, Result<(), JobError>>;

/// Stops an enqueue or a perform from a `before_*` callback, with an optional reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Halt {
    /// Why the callback halted.
    pub reason: Option<String>,
}

impl Halt {
    /// A halt with a reason.
    pub fn because(reason: impl Into<String>) -> Self {
        Halt { reason: Some(reason.into()) }
    }
}

/// What a callback function may return: `()` to go on, or `Result<(), Halt>`.
pub trait CallbackResult {
    /// `Err` halts.
    fn into_flow(self) -> Result<(), Halt>;
}

impl CallbackResult for () {
    fn into_flow(self) -> Result<(), Halt> {
        Ok(())
    }
}

impl CallbackResult for Result<(), Halt> {
    fn into_flow(self) -> Result<(), Halt> {
        self
    }
}

/// The rest of the enqueue, handed to an `around_enqueue` callback.
pub struct NextEnqueue<'a>(pub(crate) Box<dyn FnOnce() -> BoxFuture<'a, Result<(), Error>> + Send + 'a>);

impl NextEnqueue<'_> {
    /// Runs the rest of the enqueue (inner callbacks and the adapter).
    pub async fn run(self) -> Result<(), Error> {
        (self.0)().await
    }
}

/// The rest of the perform, handed to an `around_perform` callback. A callback that returns
/// without running it halts the job: skipped and recorded as halted, not failed.
pub struct NextPerform<'a>(pub(crate) Box<dyn FnOnce() -> BoxFuture<'a, Result<(), JobError>> + Send + 'a>);

impl NextPerform<'_> {
    /// Runs the rest of the perform (inner callbacks and the job).
    pub async fn run(self) -> Result<(), JobError> {
        (self.0)().await
    }
}

impl fmt::Debug for NextEnqueue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextEnqueue")
    }
}

impl fmt::Debug for NextPerform<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextPerform")
    }
}

/// How long `retry_on` waits before retry number `n` (n = how often this declaration matched).
#[derive(Clone, Copy)]
pub enum Wait {
    /// `d + rand × d × jitter`.
    Fixed(Duration),
    /// Rails' default: `n⁴ + 2 s + rand × n⁴ × jitter`.
    PolynomiallyLonger,
    /// `2ⁿ s + rand × 2ⁿ × jitter`.
    Exponential,
    /// Your function of `n`; no jitter is added.
    Custom(fn(u32) -> Duration),
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wait::Fixed(d) => write!(f, "Fixed({d:?})"),
            Wait::PolynomiallyLonger => f.write_str("PolynomiallyLonger"),
            Wait::Exponential => f.write_str("Exponential"),
            Wait::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Wait {
    /// The delay before retry `n`, given the jitter and a random number in `[0, 1)`.
    pub fn delay(&self, n: u32, jitter: f64, random: f64) -> Duration {
        let with_jitter = |base: f64, extra: f64| Duration::from_secs_f64(base + extra + random * base * jitter);
        match self {
            Wait::Fixed(d) => with_jitter(d.as_secs_f64(), 0.0),
            Wait::PolynomiallyLonger => with_jitter(f64::from(n).powi(4), 2.0),
            Wait::Exponential => with_jitter(2f64.powi(n.min(60) as i32), 0.0),
            Wait::Custom(f) => f(n),
        }
    }
}

/// A `retry_on` declaration.
#[derive(Clone, Copy, Debug)]
pub struct RetryOn {
    /// Its key in `exception_executions`, e.g. `[SmtpError]`.
    pub key: &'static str,
    /// Which errors it handles.
    pub matches: Matcher,
    /// How many runs in all before it stops retrying; `None`: unlimited.
    pub attempts: Option<u32>,
    /// How long to wait.
    pub wait: Wait,
    /// Jitter; `None`: the runtime's default (0.15).
    pub jitter: Option<f64>,
    /// Queue for the retry, if not the job's.
    pub queue: Option<&'static str>,
    /// Priority for the retry, if not the job's.
    pub priority: Option<i32>,
    /// Called when attempts run out, then `after_discard`; without it the error goes on to the
    /// worker's policy.
    pub exhausted: Option<ErrorHandlerFn>,
}

/// One error-handling declaration of a job, in the order declared.
#[derive(Clone, Copy, Debug)]
pub enum ErrorHandler {
    /// `retry_on(..)`.
    RetryOn(RetryOn),
    /// `discard_on(ErrType)`: drop the job, optionally calling a handler first.
    DiscardOn {
        /// Which errors it handles.
        matches: Matcher,
        /// Called before the job is dropped.
        handler: Option<ErrorHandlerFn>,
    },
    /// `rescue_from(ErrType, with = handler)`.
    RescueFrom {
        /// Which errors it handles.
        matches: Matcher,
        /// Handles them; an `Err` from it fails the job.
        handler: ErrorHandlerFn,
    },
}

/// Everything `#[job]` declares besides the job's code. Later declarations of error handlers are
/// tried first, as in Rails; `before_*` and `around_*` callbacks run in the order declared,
/// `after_*` ones from the last declared to the first (ActiveSupport's order).
#[derive(Clone, Copy, Debug)]
pub struct Declarations {
    /// `retry_on`, `discard_on`, `rescue_from`, in declaration order.
    pub error_handlers: &'static [ErrorHandler],
    /// Called whenever the job ends without success: `discard_on`, an exhausted `retry_on`, or an
    /// error nothing handled once nothing will retry it (the worker's policy gives up).
    pub after_discard: &'static [ErrorHandlerFn],
    /// Named `before_enqueue` callbacks.
    pub before_enqueue: &'static [(&'static str, EnqueueCallbackFn)],
    /// Named `around_enqueue` callbacks, outermost first.
    pub around_enqueue: &'static [(&'static str, AroundEnqueueFn)],
    /// Named `after_enqueue` callbacks.
    pub after_enqueue: &'static [(&'static str, EnqueueCallbackFn)],
    /// Named `before_perform` callbacks.
    pub before_perform: &'static [(&'static str, PerformCallbackFn)],
    /// Named `around_perform` callbacks, outermost first.
    pub around_perform: &'static [(&'static str, AroundPerformFn)],
    /// Named `after_perform` callbacks (run only after a successful perform).
    pub after_perform: &'static [(&'static str, PerformCallbackFn)],
}

impl Declarations {
    /// Nothing declared.
    pub const EMPTY: Declarations = Declarations {
        error_handlers: &[],
        after_discard: &[],
        before_enqueue: &[],
        around_enqueue: &[],
        after_enqueue: &[],
        before_perform: &[],
        around_perform: &[],
        after_perform: &[],
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomially_longer_is_n4_plus_2s_plus_jitter() {
        let mut rng = fastrand::Rng::with_seed(7);
        let r = rng.f64();
        assert_eq!(Wait::PolynomiallyLonger.delay(1, 0.15, 0.0), Duration::from_secs(3));
        assert_eq!(Wait::PolynomiallyLonger.delay(3, 0.0, r), Duration::from_secs(83));
        let d = Wait::PolynomiallyLonger.delay(3, 0.15, r);
        assert_eq!(d, Duration::from_secs_f64(81.0 + 2.0 + r * 81.0 * 0.15));
        assert!(d > Duration::from_secs(83) && d < Duration::from_secs_f64(83.0 + 81.0 * 0.15));
    }

    #[test]
    fn fixed_wait_gets_jitter_and_functions_do_not() {
        assert_eq!(Wait::Fixed(Duration::from_secs(10)).delay(4, 0.15, 0.5), Duration::from_secs_f64(10.75));
        assert_eq!(
            Wait::Custom(|n| Duration::from_secs(u64::from(n) * 7)).delay(3, 0.15, 0.99),
            Duration::from_secs(21)
        );
        assert_eq!(Wait::Exponential.delay(5, 0.0, 0.3), Duration::from_secs(32));
    }
}
