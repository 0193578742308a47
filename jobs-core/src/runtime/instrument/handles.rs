//! The metric handles of runs whose labels are static (a job on its declared queue), kept per
//! thread: such a run looks its handles up instead of building and hashing a key per metric,
//! which the `metrics` crate does before it asks the recorder, even when the recorder is its
//! no-op one.
//!
//! Handles belong to the recorder that registered them. A thread keeps the address of the
//! recorder it registered its handles with and, when the recorder it sees is another (one
//! installed after the worker started), drops its handles and registers them again. (A
//! thread-local recorder set again at the very address of an earlier one on the same thread would
//! keep the earlier one's handles; global recorders, which workers use, are set once.)

use std::cell::RefCell;
use std::collections::HashMap;

use metrics::{Counter, Histogram, Label, Recorder};

use super::{RunLabels, names};
use crate::contract::Outcome;
use crate::support::hash::Words;

/// The handles of one run's labels, each registered when first used.
#[derive(Default)]
pub(super) struct Handles {
    latency: Option<Histogram>,
    failed: Option<Counter>,
    /// Per outcome: a class's runs end in one or two ways.
    finished: Vec<(Outcome, Finished)>,
}

/// The handles of a run that ended with one outcome.
pub(super) struct Finished {
    pub(super) processed: Counter,
    pub(super) duration: Histogram,
}

impl Handles {
    /// `jobs.queue.latency`.
    pub(super) fn latency(&mut self, labels: &RunLabels) -> &Histogram {
        self.latency.get_or_insert_with(|| metrics::histogram!(names::QUEUE_LATENCY, labels.to_vec()))
    }

    /// `jobs.failed`.
    pub(super) fn failed(&mut self, labels: &RunLabels) -> &Counter {
        self.failed.get_or_insert_with(|| metrics::counter!(names::FAILED, labels.to_vec()))
    }

    /// `jobs.processed` and `messaging.process.duration` of runs that ended with `outcome`.
    pub(super) fn finished(&mut self, labels: &RunLabels, outcome: Outcome) -> &Finished {
        let at = match self.finished.iter().position(|(known, _)| *known == outcome) {
            Some(at) => at,
            None => {
                let mut labels = labels.to_vec();
                labels.push(Label::from_static_parts(names::OUTCOME, outcome.as_str()));
                let processed = metrics::counter!(names::PROCESSED, labels.clone());
                labels.push(super::operation("perform"));
                let duration = metrics::histogram!(names::PROCESS_DURATION, labels);
                self.finished.push((outcome, Finished { processed, duration }));
                self.finished.len() - 1
            }
        };
        &self.finished[at].1
    }
}

/// A run's static labels, by address: equal keys are equal labels.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    queue: (usize, usize),
    class: (usize, usize),
}

struct Cache {
    /// The address of the recorder the handles were registered with.
    recorder: usize,
    /// Keyed by addresses, which need no SipHash.
    runs: HashMap<Key, Handles, Words>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache { recorder: 0, runs: HashMap::default() });
}

/// Calls `f` with the handles of `labels`: this thread's, registered with the recorder in use,
/// for static labels; for others, handles registered for this call.
pub(super) fn with<T>(labels: &RunLabels, f: impl FnOnce(&mut Handles) -> T) -> T {
    let Some((queue, class)) = labels.fixed else {
        return f(&mut Handles::default());
    };
    let recorder =
        metrics::with_recorder(|recorder| std::ptr::from_ref::<dyn Recorder>(recorder).cast::<()>() as usize);
    let key = Key { queue: (queue.as_ptr() as usize, queue.len()), class: (class.as_ptr() as usize, class.len()) };
    CACHE.with_borrow_mut(|cache| {
        if cache.recorder != recorder {
            cache.runs.clear();
            cache.recorder = recorder;
        }
        f(cache.runs.entry(key).or_default())
    })
}
