//! `perform_now`: a job run right here, no queue, with callbacks and error handling.

use crate::contract::{Error, FromArgs, Job, JobResult};
use crate::enqueue::{ConfiguredJob, for_each_arity};
use crate::perform::execution;
use crate::runtime::Runtime;

impl Runtime {
    /// Performs `job` right here, with no queue, callbacks and error handling included, with
    /// this runtime as the current one; returns the job's value, or [`Error::Job`] with its error
    /// if the run failed.
    pub async fn perform_now<J: Job>(&self, job: J) -> Result<<J::Output as JobResult>::Value, Error> {
        self.scope(execution::perform_now(self, job, Default::default())).await
    }
}

impl<J: Job, Args> ConfiguredJob<J, Args> {
    /// Performs an already built job here and now with these options; returns the job's value,
    /// or [`Error::Job`] with its error if the run failed.
    pub async fn perform(self, job: J) -> Result<<J::Output as JobResult>::Value, Error> {
        let runtime = self.options.runtime()?;
        execution::perform_now(&runtime, job, self.options).await
    }
}

macro_rules! positional {
    ($($arg:ident: $ty:ident),*) => {
        impl<J: FromArgs<($($ty,)*)>, $($ty),*> ConfiguredJob<J, ($($ty,)*)> {
            /// Performs the job here and now with these arguments, callbacks and error handling
            /// included; returns the job's value, or [`Error::Job`] with its error.
            #[allow(clippy::too_many_arguments)]
            pub async fn perform_now(self, $($arg: $ty),*) -> Result<<J::Output as JobResult>::Value, Error> {
                self.perform(J::from_args(($($arg,)*))).await
            }
        }
    };
}

for_each_arity!(positional);
