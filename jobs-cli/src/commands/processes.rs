//! `processes`, `quiet` and `stop`: the worker processes and the signals an operator sends them.

use chrono::Utc;
use jobs_core::{ProcessCommand, ProcessInfo};
use serde_json::json;

use crate::database::Store;
use crate::exit::Failure;
use crate::output::{Align, Output, Table};
use crate::when::show_age;

/// The live processes, by id.
pub(super) async fn fetch(store: &Store) -> Result<Vec<ProcessInfo>, Failure> {
    store.inspect()?.processes().await.map_err(|e| store.failure("listing worker processes", e))
}

pub(super) async fn list(store: &Store, out: Output) -> Result<(), Failure> {
    let processes = fetch(store).await?;
    if out.json {
        return out.json(&processes);
    }
    if processes.is_empty() {
        out.text("No worker process is running.\n")
    } else {
        out.text(&table(&processes).render())
    }
}

pub(super) async fn signal(store: &Store, id: &str, command: ProcessCommand, out: Output) -> Result<(), Failure> {
    let what = format!("asking process {id} to {}", command.as_str());
    let reached = store.inspect()?.signal(id, command).await.map_err(|e| store.failure(&what, e))?;
    if !reached {
        return Err(Failure::NotFound(format!("no live worker process has id {id} (`processes` lists them)")));
    }
    if out.json {
        return out.json(&json!({ "process": id, "command": command, "sent": true }));
    }
    out.text(&match command {
        ProcessCommand::Quiet => format!(
            "Asked process {id} to go quiet: at its next heartbeat it stops claiming jobs and finishes those it holds.\n"
        ),
        ProcessCommand::Stop => format!("Asked process {id} to stop: at its next heartbeat it shuts down gracefully.\n"),
    })
}

/// The processes as a table.
pub(super) fn table(processes: &[ProcessInfo]) -> Table {
    let now = Utc::now();
    let mut table = Table::new(&[
        ("PROCESS", Align::Left),
        ("HOST", Align::Left),
        ("PID", Align::Right),
        ("STATE", Align::Left),
        ("BUSY", Align::Right),
        ("QUEUES", Align::Left),
        ("STARTED", Align::Left),
        ("HEARTBEAT", Align::Left),
        ("VERSION", Align::Left),
    ]);
    for process in processes {
        table.row(vec![
            process.id.clone(),
            process.hostname.clone(),
            process.pid.to_string(),
            process.state.as_str().to_owned(),
            format!("{}/{}", process.busy, process.concurrency),
            process.queues.join(","),
            show_age(process.started_at, now),
            show_age(process.last_heartbeat, now),
            process.version.clone(),
        ]);
    }
    table
}
