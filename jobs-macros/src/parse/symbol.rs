//! The keys `#[job(...)]` and its error handlers accept, as constants compared against idents.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// One attribute key.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

impl Symbol {
    /// The key as written.
    pub(crate) const fn as_str(self) -> &'static str {
        self.0
    }
}

pub(crate) const QUEUE: Symbol = Symbol("queue");
pub(crate) const PRIORITY: Symbol = Symbol("priority");
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const LOG_ARGUMENTS: Symbol = Symbol("log_arguments");
pub(crate) const TIMEOUT: Symbol = Symbol("timeout");
pub(crate) const RETRY_ON: Symbol = Symbol("retry_on");
pub(crate) const DISCARD_ON: Symbol = Symbol("discard_on");
pub(crate) const RESCUE_FROM: Symbol = Symbol("rescue_from");
pub(crate) const AFTER_DISCARD: Symbol = Symbol("after_discard");
pub(crate) const BEFORE_ENQUEUE: Symbol = Symbol("before_enqueue");
pub(crate) const AROUND_ENQUEUE: Symbol = Symbol("around_enqueue");
pub(crate) const AFTER_ENQUEUE: Symbol = Symbol("after_enqueue");
pub(crate) const BEFORE_PERFORM: Symbol = Symbol("before_perform");
pub(crate) const AROUND_PERFORM: Symbol = Symbol("around_perform");
pub(crate) const AFTER_PERFORM: Symbol = Symbol("after_perform");
pub(crate) const CRATE: Symbol = Symbol("crate");
pub(crate) const CONTINUABLE: Symbol = Symbol("continuable");
pub(crate) const CRON: Symbol = Symbol("cron");
pub(crate) const LIMITS_CONCURRENCY: Symbol = Symbol("limits_concurrency");
pub(crate) const UNIQUE: Symbol = Symbol("unique");
pub(crate) const THROTTLE: Symbol = Symbol("throttle");

/// Inside `limits_concurrency(..)`, `unique(..)` and `throttle(..)`.
pub(crate) const TO: Symbol = Symbol("to");
pub(crate) const KEY: Symbol = Symbol("key");
pub(crate) const DURATION: Symbol = Symbol("duration");
pub(crate) const ON_CONFLICT: Symbol = Symbol("on_conflict");
pub(crate) const GROUP: Symbol = Symbol("group");
pub(crate) const BY: Symbol = Symbol("by");
pub(crate) const FOR: Symbol = Symbol("for");
pub(crate) const WHILE: Symbol = Symbol("while");
pub(crate) const LIMIT: Symbol = Symbol("limit");
pub(crate) const PERIOD: Symbol = Symbol("period");

/// Inside `continuable(..)`.
pub(crate) const MAX_RESUMPTIONS: Symbol = Symbol("max_resumptions");
pub(crate) const RESUME_WAIT: Symbol = Symbol("resume_wait");
pub(crate) const CHECKPOINT_INTERVAL: Symbol = Symbol("checkpoint_interval");
pub(crate) const RESUME_ERRORS_AFTER_ADVANCING: Symbol = Symbol("resume_errors_after_advancing");

/// Inside `retry_on(..)`, `discard_on(..)` and `rescue_from(..)`.
pub(crate) const ATTEMPTS: Symbol = Symbol("attempts");
pub(crate) const WAIT: Symbol = Symbol("wait");
pub(crate) const JITTER: Symbol = Symbol("jitter");
pub(crate) const WITH: Symbol = Symbol("with");
pub(crate) const MATCHES: Symbol = Symbol("matches");

/// Rails spellings that have another name here.
pub(crate) const QUEUE_AS: Symbol = Symbol("queue_as");
pub(crate) const QUEUE_WITH_PRIORITY: Symbol = Symbol("queue_with_priority");

/// Every key of `#[job(...)]`, in the order error messages list them.
pub(crate) const JOB_KEYS: &[Symbol] = &[
    QUEUE,
    PRIORITY,
    NAME,
    LOG_ARGUMENTS,
    TIMEOUT,
    RETRY_ON,
    DISCARD_ON,
    RESCUE_FROM,
    AFTER_DISCARD,
    BEFORE_ENQUEUE,
    AROUND_ENQUEUE,
    AFTER_ENQUEUE,
    BEFORE_PERFORM,
    AROUND_PERFORM,
    AFTER_PERFORM,
    CONTINUABLE,
    CRON,
    LIMITS_CONCURRENCY,
    UNIQUE,
    THROTTLE,
    CRATE,
];

/// The keys of `limits_concurrency(..)`.
pub(crate) const CONCURRENCY_KEYS: &[Symbol] = &[TO, KEY, DURATION, ON_CONFLICT, GROUP];

/// The keys of `unique(..)`.
pub(crate) const UNIQUE_KEYS: &[Symbol] = &[BY, FOR, WHILE, KEY];

/// The keys of `throttle(..)`.
pub(crate) const THROTTLE_KEYS: &[Symbol] = &[LIMIT, PERIOD, KEY];

/// The keys of `continuable(..)`.
pub(crate) const CONTINUABLE_KEYS: &[Symbol] =
    &[MAX_RESUMPTIONS, RESUME_WAIT, RESUME_ERRORS_AFTER_ADVANCING, CHECKPOINT_INTERVAL];

/// The callback keys, each naming one function or a list of them.
pub(crate) const CALLBACK_KEYS: [Symbol; 7] =
    [AFTER_DISCARD, BEFORE_ENQUEUE, AROUND_ENQUEUE, AFTER_ENQUEUE, BEFORE_PERFORM, AROUND_PERFORM, AFTER_PERFORM];

/// The keys of `retry_on(..)`.
pub(crate) const RETRY_KEYS: &[Symbol] = &[ATTEMPTS, WAIT, JITTER, QUEUE, PRIORITY, WITH, MATCHES];

/// The keys of `discard_on(..)` and `rescue_from(..)`.
pub(crate) const DISCARD_KEYS: &[Symbol] = &[WITH, MATCHES];

/// `a, b, c`, for "valid keys are: .." messages.
pub(crate) fn list(keys: &[Symbol]) -> String {
    keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
