//! Steps of a continuable job (Active Job 8.1's `step`): skipped once completed, resumed at their
//! cursor, interrupted at checkpoints when the worker shuts down.
//!
//! Here the steps check the stop signal and keep the progress, and in a worker's runs store it
//! under the job's claim at checkpoints (throttled by `checkpoint_interval`) and at each step's
//! completion, so that a job whose worker dies is rescued with it; the perform layer enqueues an
//! interrupted job again with that progress.

use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::contract::{Entry, Error, JobContext, Progress, successor};
use crate::encoding::{JobArgument, from_argument, to_argument};
use crate::runtime::instrument::steps as instrument;

/// Options of one step: a starting cursor, isolation.
///
/// ```
/// # use jobs_core::StepOptions;
/// let options = StepOptions::new().start(0u64).isolated();
/// # let _ = options;
/// ```
#[derive(Default)]
pub struct StepOptions {
    start: Option<EncodeStart>,
    isolated: bool,
}

/// Encodes a starting cursor for job class and step name (known only when the step runs).
type EncodeStart = Box<dyn FnOnce(&str, &str) -> Result<Value, Error> + Send>;

impl fmt::Debug for StepOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepOptions").field("start", &self.start.is_some()).field("isolated", &self.isolated).finish()
    }
}

impl StepOptions {
    /// No starting cursor, not isolated.
    pub fn new() -> Self {
        StepOptions::default()
    }

    /// The cursor the step starts with when it starts afresh (Rails' `start:`).
    pub fn start<T: JobArgument>(mut self, cursor: T) -> Self {
        self.start = Some(Box::new(move |job: &str, step: &str| to_argument(job, &cursor_name(step), &cursor)));
        self
    }

    /// Runs the step in an execution of its own (Rails' `isolated: true`): a job that made
    /// progress in this run is enqueued again before the step starts, so the progress is stored
    /// first; the steps after it start in a fresh execution too.
    pub fn isolated(mut self) -> Self {
        self.isolated = true;
        self
    }
}

fn cursor_name(step: &str) -> String {
    format!("cursor of step '{step}'")
}

/// The step being run, handed to its code: its cursor, and checkpoints.
///
/// Setting or advancing the cursor is a checkpoint: if the worker is shutting down, it returns
/// [`Error::Interrupted`], which the step's code returns (`?`) so that the job ends and is
/// enqueued again at this cursor.
#[derive(Clone, Debug)]
pub struct Step {
    ctx: JobContext,
    name: String,
    resumed: bool,
}

impl JobContext {
    /// Runs step `name` of a continuable job (`#[job(continuable)]`): skipped when an earlier run
    /// completed it, resumed at its cursor when an earlier run was interrupted in it. Steps run
    /// in the order the job meets them; a repeated, nested or reordered step is an
    /// [`Error::InvalidStep`]. Code outside steps runs on every run.
    ///
    /// Before each step but the first of a run there is a checkpoint. The step's own errors
    /// come back as they are; the framework's (an interruption, an invalid step) convert into
    /// the step's error type.
    ///
    /// ```
    /// # use jobs_core::{Error, JobContext};
    /// async fn import(ctx: &JobContext, rows: &[String]) -> Result<(), Error> {
    ///     ctx.step("validate", |_| async { Ok::<_, Error>(()) }).await?;
    ///     ctx.step("rows", |step| async move {
    ///         let mut row = step.cursor::<usize>()?.unwrap_or(0);
    ///         while row < rows.len() {
    ///             // save rows[row] ...
    ///             row += 1;
    ///             step.set(row).await?;
    ///         }
    ///         Ok(())
    ///     }).await
    /// }
    /// ```
    pub async fn step<F, Fut, E>(&self, name: &str, code: F) -> Result<(), E>
    where
        F: FnOnce(Step) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: From<Error>,
    {
        self.step_with(name, StepOptions::new(), code).await
    }

    /// [`JobContext::step`] with options: a starting cursor, isolation.
    pub async fn step_with<F, Fut, E>(&self, name: &str, options: StepOptions, code: F) -> Result<(), E>
    where
        F: FnOnce(Step) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: From<Error>,
    {
        let resumed = self.enter_step(name, options)?;
        if let Some(resumed) = resumed {
            let step = Step { ctx: self.clone(), name: name.to_owned(), resumed };
            let result = code(step).await;
            self.progress()?.leave(result.is_ok());
            if result.is_ok() {
                instrument::completed(self, name);
                self.store_progress(true).await;
            }
            result?;
        }
        Ok(())
    }

    /// Checks and enters a step: `None` to skip it, `Some(resumed)` to run it.
    fn enter_step(&self, name: &str, options: StepOptions) -> Result<Option<bool>, Error> {
        if self.progress()?.advanced() {
            self.checkpoint()?;
        }
        let entry = self.progress()?.enter(name, options.isolated)?;
        match entry {
            Entry::Skip => {
                instrument::skipped(self, name);
                Ok(None)
            }
            Entry::Isolate => Err(self.interrupt("isolating")),
            Entry::Run { resumed } => {
                let mut progress = self.progress()?;
                if !resumed && let Some(start) = options.start {
                    let cursor = start(self.job_class(), name)?;
                    progress.start_at(cursor);
                }
                instrument::started(self, name, resumed.then(|| progress.cursor().clone()).as_ref());
                Ok(Some(resumed))
            }
        }
    }

    /// The progress of this continuable job, or an error for a job that is not one.
    fn progress(&self) -> Result<MutexGuard<'_, Progress>, Error> {
        let (_, progress) = self.continuation().ok_or_else(|| Error::NotContinuable(self.job_class().to_owned()))?;
        Ok(lock(progress))
    }

    /// A checkpoint: [`Error::Interrupted`] once the worker is shutting down.
    fn checkpoint(&self) -> Result<(), Error> {
        if self.is_shutting_down() { Err(self.interrupt("stopping")) } else { Ok(()) }
    }

    /// Stores the progress under the worker's claim, when the run has somewhere to store it and
    /// a store is due (`completed`: a step just completed, always due).
    async fn store_progress(&self, completed: bool) {
        let Some(sink) = self.progress_sink() else { return };
        if !sink.due(completed) {
            return;
        }
        let Ok(continuation) = self.progress().map(|p| p.to_payload()) else { return };
        sink.save(self.data(), continuation).await;
    }

    fn interrupt(&self, reason: &'static str) -> Error {
        let mut progress = match self.progress() {
            Ok(progress) => progress,
            Err(error) => return error,
        };
        let description = progress.interrupt(reason);
        instrument::interrupted(self, &description, progress.current(), reason);
        Error::Interrupted { description, reason }
    }
}

fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

impl Step {
    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether an earlier run was interrupted in this step (its cursor comes from that run).
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// Whether this run moved the cursor or completed a step.
    pub fn advanced(&self) -> bool {
        self.ctx.progress().is_ok_and(|p| p.advanced())
    }

    /// The cursor, decoded as a `T`; `None` until one is set. A cursor that does not decode as
    /// a `T` is an [`Error::Deserialization`].
    pub fn cursor<T: JobArgument>(&self) -> Result<Option<T>, Error> {
        let value = self.ctx.progress()?.cursor().clone();
        if value.is_null() {
            return Ok(None);
        }
        from_argument(self.ctx.job_class(), &cursor_name(&self.name), value).map(Some)
    }

    /// Sets the cursor (any job argument type), then checkpoints (Rails' `set!`).
    ///
    /// In a worker, a checkpoint also stores the progress under the job's claim, at most once
    /// per `checkpoint_interval` ([`Continuable::checkpoint_interval`](crate::Continuable::checkpoint_interval)),
    /// and every step's completion does: a job whose worker dies resumes from the last stored
    /// checkpoint, so the work since then (at most that interval) is done again.
    pub async fn set<T: JobArgument>(&self, cursor: T) -> Result<(), Error> {
        let value = to_argument(self.ctx.job_class(), &cursor_name(&self.name), &cursor)?;
        self.ctx.progress()?.set_cursor(value);
        self.checkpoint().await
    }

    /// Moves an integer cursor one on, then checkpoints (Rails' `advance!`); a cursor that is
    /// not an integer is an [`Error::UnadvanceableCursor`].
    pub async fn advance(&self) -> Result<(), Error> {
        let next = successor(self.ctx.progress()?.cursor())?;
        self.ctx.progress()?.set_cursor(next);
        self.checkpoint().await
    }

    /// Sets the cursor to the integer after `from` (the id just processed), then checkpoints
    /// (Rails' `advance!(from:)`).
    pub async fn advance_from<T: JobArgument>(&self, from: T) -> Result<(), Error> {
        let from = to_argument(self.ctx.job_class(), &cursor_name(&self.name), &from)?;
        self.ctx.progress()?.set_cursor(successor(&from)?);
        self.checkpoint().await
    }

    /// A checkpoint without moving the cursor (Rails' `checkpoint!`): [`Error::Interrupted`] once
    /// the worker is shutting down.
    pub async fn checkpoint(&self) -> Result<(), Error> {
        self.ctx.checkpoint()?;
        self.ctx.store_progress(false).await;
        Ok(())
    }
}
