//! What `#[job]` read: plain data, no parsing and no tokens generated here.

use std::time::Duration;

use quote::ToTokens;
use syn::{Attribute, Ident, LitBool, LitStr, Path, Type, Visibility};

/// One `#[job(...)] async fn`, as far as it could be read.
pub(crate) struct Model {
    pub(crate) attrs: JobAttrs,
    pub(crate) function: JobFn,
}

/// The attribute's settings; `None` where a key was not given (or its value was wrong).
#[derive(Default)]
pub(crate) struct JobAttrs {
    pub(crate) queue: Option<LitStr>,
    pub(crate) priority: Option<i32>,
    pub(crate) name: Option<LitStr>,
    pub(crate) log_arguments: Option<LitBool>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) krate: Option<Path>,
    /// `continuable`, with the options given.
    pub(crate) continuable: Option<ContinuableSpec>,
    /// `cron = "0 9 * * *"`: the job's recurring schedule.
    pub(crate) cron: Option<LitStr>,
    /// `limits_concurrency(..)`.
    pub(crate) concurrency: Option<ConcurrencySpec>,
    /// `unique` or `unique(..)`.
    pub(crate) unique: Option<UniqueSpec>,
    /// `throttle(..)`.
    pub(crate) throttle: Option<ThrottleSpec>,
    /// `retry_on`, `discard_on`, `rescue_from`, in declaration order.
    pub(crate) handlers: Vec<HandlerDecl>,
    pub(crate) callbacks: Callbacks,
}

/// `continuable(..)`: the options given; the rest keep Rails' defaults.
#[derive(Default)]
pub(crate) struct ContinuableSpec {
    pub(crate) max_resumptions: Option<u32>,
    pub(crate) resume_wait: Option<Duration>,
    /// `checkpoint_interval = "1s"`.
    pub(crate) checkpoint_interval: Option<Duration>,
    pub(crate) resume_errors_after_advancing: Option<bool>,
}

/// A flow-control key of the job: `key = |job| job.account_id` or `key = some::function`.
pub(crate) enum KeyFn {
    /// A closure of one parameter, the job (its pattern and the body, evaluated as a place so
    /// that `job.name` borrows rather than moves).
    Closure(Box<(syn::Pat, syn::Expr)>),
    /// A function taking `&Job`.
    Path(Path),
}

/// `limits_concurrency(to = 2, key = .., duration = "5m", on_conflict = block, group = "..")`.
pub(crate) struct ConcurrencySpec {
    pub(crate) to: u32,
    pub(crate) key: Option<KeyFn>,
    pub(crate) duration: Option<Duration>,
    pub(crate) discard: bool,
    pub(crate) group: Option<LitStr>,
}

/// The states `unique(while = [..])` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateName {
    Scheduled,
    Ready,
    Blocked,
    Running,
    Retrying,
}

/// `unique(by = [args, queue, class], for = "1h", while = [..], key = ..)`; `None`: the default.
#[derive(Default)]
pub(crate) struct UniqueSpec {
    /// (args, queue, class).
    pub(crate) by: Option<(bool, bool, bool)>,
    pub(crate) period: Option<Duration>,
    pub(crate) states: Option<Vec<StateName>>,
    pub(crate) key: Option<KeyFn>,
}

/// `throttle(limit = 10, period = "1s", key = ..)`.
pub(crate) struct ThrottleSpec {
    pub(crate) limit: u32,
    pub(crate) period: Duration,
    pub(crate) key: Option<KeyFn>,
}

/// The functions each callback key names, in order.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) after_discard: Vec<Path>,
    pub(crate) before_enqueue: Vec<Path>,
    pub(crate) around_enqueue: Vec<Path>,
    pub(crate) after_enqueue: Vec<Path>,
    pub(crate) before_perform: Vec<Path>,
    pub(crate) around_perform: Vec<Path>,
    pub(crate) after_perform: Vec<Path>,
}

impl Callbacks {
    /// Whether no callback was declared.
    pub(crate) fn is_empty(&self) -> bool {
        [
            &self.after_discard,
            &self.before_enqueue,
            &self.around_enqueue,
            &self.after_enqueue,
            &self.before_perform,
            &self.around_perform,
            &self.after_perform,
        ]
        .iter()
        .all(|list| list.is_empty())
    }
}

/// Which errors a declaration handles.
pub(crate) enum Match {
    /// `retry_on(SmtpError, Timeout)`: errors of any of these types (anywhere in the source chain).
    Types(Vec<Path>),
    /// `retry_on(matches = is_transient)`: errors for which the function returns true.
    Predicate(Path),
}

impl Match {
    /// The declaration's key in `exception_executions`, as Rails writes its array of exception
    /// classes: `[SmtpError]`, `[SmtpError, Timeout]`.
    pub(crate) fn key(&self) -> String {
        let paths = match self {
            Match::Types(types) => types.as_slice(),
            Match::Predicate(p) => std::slice::from_ref(p),
        };
        let names: Vec<String> = paths.iter().map(|p| p.to_token_stream().to_string().replace(' ', "")).collect();
        format!("[{}]", names.join(", "))
    }
}

/// How long `retry_on` waits.
pub(crate) enum WaitSpec {
    Fixed(Duration),
    PolynomiallyLonger,
    Exponential,
    Custom(Path),
}

/// One of `retry_on`, `discard_on`, `rescue_from`.
pub(crate) enum HandlerDecl {
    RetryOn {
        matches: Match,
        attempts: Option<u32>,
        wait: WaitSpec,
        jitter: Option<f64>,
        queue: Option<String>,
        priority: Option<i32>,
        with: Option<Path>,
    },
    DiscardOn {
        matches: Match,
        with: Option<Path>,
    },
    RescueFrom {
        matches: Match,
        with: Path,
    },
}

/// How a parameter gets its value when the job runs.
pub(crate) enum ParamKind {
    /// Serialized into the payload's `arguments`.
    Argument,
    /// `State<T>`, from the runtime.
    State,
    /// `&JobContext`.
    ContextRef,
    /// `JobContext`, by value.
    Context,
}

/// One parameter of the job function.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

/// The parts of the job function that the expansion needs.
pub(crate) struct JobFn {
    pub(crate) vis: Visibility,
    pub(crate) fn_ident: Ident,
    pub(crate) struct_ident: Ident,
    pub(crate) docs: Vec<Attribute>,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Type,
    /// `async fn`: the job can call and await it.
    pub(crate) is_async: bool,
    /// How `perform` names the function, when not by `fn_ident` (a mailer action, renamed
    /// inside its `impl`).
    pub(crate) callee: Option<syn::ExprPath>,
    /// Every parameter was read and the function is free and not generic, so the job struct can
    /// be generated (even if other parts are wrong).
    pub(crate) complete: bool,
}

impl JobFn {
    /// The serialized parameters, in order.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| matches!(p.kind, ParamKind::Argument))
    }
}
