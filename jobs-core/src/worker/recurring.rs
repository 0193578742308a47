//! Recurring jobs: tasks on cron schedules, declared in code (`#[job(cron)]`, [`Recurring`]) or in
//! a `recurring.toml`, or added at run time ([`RecurringTasks`]); a [`Scheduler`] in each worker
//! enqueues their ticks through the store, which lets each tick through once.

mod file;
mod operations;
mod schedule;
mod scheduler;
mod task;
mod tick;
mod ticks;

pub use file::{parse_recurring, read_recurring_file};
pub use operations::{RecurringTaskInfo, RecurringTasks};
pub use schedule::Schedule;
pub use scheduler::Scheduler;
pub use task::Recurring;
pub(crate) use task::from_registration;
