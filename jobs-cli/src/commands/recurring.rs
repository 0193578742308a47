//! `recurring`: the recurring tasks with their schedules, next and last runs and last jobs;
//! `recurring run KEY` enqueues one now, `pause` and `resume` steer one.

use chrono::Utc;
use jobs_core::{RecurringTaskInfo, RecurringTasks, Runtime};
use serde_json::json;

use crate::args::RecurringAction;
use crate::database::Store;
use crate::exit::Failure;
use crate::output::{Align, Output, Table};
use crate::when::show_age;

pub(super) async fn recurring(store: &Store, action: Option<RecurringAction>, out: Output) -> Result<(), Failure> {
    // The jobs compiled in (in an application's binary) give a task without a queue its class's.
    let runtime = Runtime::builder().shared_adapter(store.adapter().clone()).build()?;
    let tasks = RecurringTasks::new(&runtime)?;
    match action {
        None => list(store, &tasks, out).await,
        Some(RecurringAction::Run { key }) => {
            let job = tasks.run_now(&key).await.map_err(|e| not_found_or(store, &key, "running the task", e))?;
            if out.json {
                return out.json(&json!({ "task": key, "job_id": job.job_id, "provider_job_id": job.provider_job_id, "queue": job.queue }));
            }
            out.text(&format!(
                "Enqueued {} (Job ID: {}) to {} for recurring task {key}.\n",
                job.job_class, job.job_id, job.queue
            ))
        }
        Some(RecurringAction::Pause { key }) => steer(store, &tasks, &key, true, out).await,
        Some(RecurringAction::Resume { key }) => steer(store, &tasks, &key, false, out).await,
    }
}

async fn list(store: &Store, tasks: &RecurringTasks, out: Output) -> Result<(), Failure> {
    let infos = tasks.list().await.map_err(|e| store.failure("listing recurring tasks", e))?;
    if out.json {
        let rows: Vec<_> = infos.iter().map(as_json).collect();
        return out.json(&rows);
    }
    if infos.is_empty() {
        return out.text("No recurring task is stored (workers store theirs when they start).\n");
    }
    out.text(&table(&infos).render())
}

async fn steer(store: &Store, tasks: &RecurringTasks, key: &str, pause: bool, out: Output) -> Result<(), Failure> {
    let found = if pause { tasks.pause(key).await } else { tasks.resume(key).await }
        .map_err(|e| store.failure("steering the task", e))?;
    if !found {
        return Err(Failure::NotFound(format!("no recurring task `{key}` (`recurring` lists them)")));
    }
    if out.json {
        return out.json(&json!({ "task": key, "paused": pause }));
    }
    out.text(&if pause {
        format!("Paused recurring task {key}: it enqueues nothing until `recurring resume {key}`.\n")
    } else {
        format!("Resumed recurring task {key} from its next tick.\n")
    })
}

/// An unknown task is a not-found; anything else a failure of `what`.
fn not_found_or(store: &Store, key: &str, what: &str, error: jobs_core::Error) -> Failure {
    match error {
        jobs_core::Error::Config(message) if message.starts_with("no recurring task") => {
            Failure::NotFound(format!("no recurring task `{key}` (`recurring` lists them)"))
        }
        other => store.failure(what, other),
    }
}

fn as_json(info: &RecurringTaskInfo) -> serde_json::Value {
    let (state, task) = (&info.state, &info.state.task);
    json!({
        "key": task.key, "class": task.class, "arguments": task.arguments, "schedule": task.schedule,
        "time_zone": task.time_zone, "queue": task.queue, "priority": task.priority,
        "description": task.description, "static": task.is_static, "paused": state.paused,
        "next_run_at": info.next_run_at, "last_run_at": state.last_run_at, "last_job_id": state.last_job_id,
    })
}

fn table(infos: &[RecurringTaskInfo]) -> Table {
    let now = Utc::now();
    let mut table = Table::new(&[
        ("KEY", Align::Left),
        ("CLASS", Align::Left),
        ("SCHEDULE", Align::Left),
        ("NEXT RUN", Align::Left),
        ("LAST RUN", Align::Left),
        ("LAST JOB", Align::Left),
        ("STATE", Align::Left),
    ]);
    for info in infos {
        let (state, task) = (&info.state, &info.state.task);
        let schedule = match &task.time_zone {
            Some(zone) => format!("{} ({zone})", task.schedule),
            None => task.schedule.clone(),
        };
        table.row(vec![
            task.key.clone(),
            task.class.clone(),
            schedule,
            info.next_run_at.map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            state.last_run_at.map_or_else(|| "never".to_owned(), |at| show_age(at, now)),
            state.last_job_id.clone().unwrap_or_else(|| "-".to_owned()),
            (if state.paused {
                "paused"
            } else if task.is_static {
                "static"
            } else {
                "dynamic"
            })
            .to_owned(),
        ]);
    }
    table
}
