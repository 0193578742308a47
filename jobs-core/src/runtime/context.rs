//! The runtime as a running job's environment: what `JobContext` reaches through it.

use std::any::Any;
use std::sync::Arc;

use crate::contract::{Environment, JobContext, StateMap};
use crate::runtime::Runtime;

impl Environment for Runtime {
    fn state_map(&self) -> &StateMap {
        self.state_map()
    }

    fn app_name(&self) -> Option<&str> {
        Runtime::app_name(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Runtime {
    /// This runtime as the environment of the jobs it runs.
    pub(crate) fn environment(&self) -> Arc<dyn Environment> {
        Arc::new(self.clone())
    }
}

impl JobContext {
    /// The runtime running this job (for its state, or to enqueue follow-up jobs).
    pub fn runtime(&self) -> &Runtime {
        self.env().as_any().downcast_ref::<Runtime>().expect("a job's environment is the runtime that runs it")
    }
}
