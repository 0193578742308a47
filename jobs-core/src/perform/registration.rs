//! Registering a job type: its registration points at this layer's pipeline for the type.

use std::any::TypeId;

use crate::contract::{Error, Job};
use crate::perform::execution::execute_erased;
use crate::runtime::{JobRegistration, Registry};

impl JobRegistration {
    /// The registration of job type `J`.
    pub const fn of<J: Job>() -> Self {
        JobRegistration::from_parts(
            (J::NAME, J::QUEUE, J::PRIORITY, J::CRON),
            (J::LOG_ARGUMENTS, J::FLOW),
            TypeId::of::<J>,
            execute_erased::<J>,
        )
    }
}

impl Registry {
    /// Registers job type `J` explicitly. Registering the same type twice is harmless; two
    /// different types under one name are an [`Error::DuplicateJob`].
    pub fn register<J: Job>(&mut self) -> Result<&mut Self, Error> {
        self.add(JobRegistration::of::<J>())?;
        Ok(self)
    }
}
