//! The operations commands, one file per group, each working through the operations API of
//! the opened backend.

mod actions;
mod jobs;
mod processes;
mod queues;
mod recurring;
mod schema;
mod stats;
mod web;
pub(crate) mod work;

use crate::args::Operation;
use crate::config::Settings;
use crate::database::{self, Open};
use crate::exit::Failure;
use crate::output::Output;

/// Runs one operations command.
pub(crate) async fn operate(operation: Operation, settings: &Settings, out: Output) -> Result<(), Failure> {
    use jobs_core::{JobAction, ProcessCommand};

    let connection = settings.connection()?;
    let open = || database::open(&connection, Open::Existing);
    match operation {
        Operation::Migrate { print_sql, from } => schema::migrate(&connection, print_sql, from, out).await,
        Operation::Check => schema::check(&connection, out).await,
        Operation::Recurring { action } => recurring::recurring(&open().await?, action, out).await,
        Operation::Stats => stats::stats(&open().await?, out).await,
        Operation::List(args) => jobs::list(&open().await?, &args, out).await,
        Operation::Show { job_id } => jobs::show(&open().await?, &job_id, out).await,
        Operation::Retry(args) => actions::act(&open().await?, JobAction::Retry, &args, out).await,
        Operation::Discard(args) => actions::act(&open().await?, JobAction::Discard, &args, out).await,
        Operation::RunNow(args) => actions::act(&open().await?, JobAction::RunNow, &args, out).await,
        Operation::Delete(args) => actions::act(&open().await?, JobAction::Delete, &args, out).await,
        Operation::Purge { completed_before } => actions::purge(&open().await?, &completed_before, out).await,
        Operation::Pause { queue } => queues::pause(&open().await?, &queue, true, out).await,
        Operation::Resume { queue } => queues::pause(&open().await?, &queue, false, out).await,
        Operation::Processes => processes::list(&open().await?, out).await,
        Operation::Quiet { process_id } => {
            processes::signal(&open().await?, &process_id, ProcessCommand::Quiet, out).await
        }
        Operation::Stop { process_id } => {
            processes::signal(&open().await?, &process_id, ProcessCommand::Stop, out).await
        }
        Operation::Web(args) => web::serve(&args, open).await,
    }
}
