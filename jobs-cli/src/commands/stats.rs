//! `stats`: every queue with its jobs per state, latency and pause, the runs of the last hour,
//! then the worker processes.

use std::time::Duration;

use chrono::Utc;
use jobs_core::{Error, HistoryPoint, JobState, QueueStats};
use serde_json::json;

use super::processes::{fetch as fetch_processes, table as process_table};
use crate::database::Store;
use crate::exit::Failure;
use crate::output::{Align, Output, Table, plural};
use crate::when::show_duration;

pub(super) async fn stats(store: &Store, out: Output) -> Result<(), Failure> {
    let inspect = store.inspect()?;
    let queues = inspect.queues().await.map_err(|e| store.failure("queue stats", e))?;
    // A backend that cannot list processes still has queues worth showing.
    let processes = match fetch_processes(store).await {
        Ok(processes) => Ok(processes),
        Err(Failure::NotSupported(why)) => Err(why),
        Err(other) => return Err(other),
    };
    // Runs of the last hour, from the history workers record (absent where there is none).
    let since = Utc::now() - chrono::Duration::hours(1);
    let history = match inspect.history(since).await {
        Ok(points) => Some(points),
        Err(Error::NotSupported { .. }) => None,
        Err(error) => return Err(store.failure("run history", error)),
    };
    if out.json {
        return out.json(&json!({
            "queues": queues,
            "processes": processes.as_ref().ok(),
            "history_since": since,
            "history": history,
        }));
    }
    let mut text = format!("{}\n\n", store.shown());
    if queues.is_empty() {
        text.push_str("No queues: no job is stored and no queue is paused.\n");
    } else {
        text.push_str(&queue_table(&queues).render());
    }
    if let Some(history) = &history {
        text.push_str(&last_hour(history));
    }
    text.push('\n');
    match processes {
        Ok(processes) if processes.is_empty() => text.push_str("No worker process is running.\n"),
        Ok(processes) => text.push_str(&process_table(&processes).render()),
        Err(why) => text.push_str(&format!("Worker processes: {why}.\n")),
    }
    out.text(&text)
}

/// The states in the order an operator reads them: what waits, what runs, what went wrong.
const COLUMNS: [JobState; 6] =
    [JobState::Ready, JobState::Scheduled, JobState::Running, JobState::Retrying, JobState::Dead, JobState::Completed];

fn queue_table(queues: &[QueueStats]) -> Table {
    let mut table = Table::new(&[
        ("QUEUE", Align::Left),
        ("READY", Align::Right),
        ("SCHEDULED", Align::Right),
        ("RUNNING", Align::Right),
        ("RETRYING", Align::Right),
        ("DEAD", Align::Right),
        ("COMPLETED", Align::Right),
        ("LATENCY", Align::Right),
        ("PAUSED", Align::Left),
    ]);
    for queue in queues {
        let mut row = vec![queue.queue.clone()];
        row.extend(COLUMNS.iter().map(|state| queue.count(*state).to_string()));
        row.push(show_duration(queue.latency));
        row.push(if queue.paused { "paused".to_owned() } else { String::new() });
        table.row(row);
    }
    if queues.len() > 1 {
        let mut row = vec!["(all)".to_owned()];
        row.extend(COLUMNS.iter().map(|state| queues.iter().map(|q| q.count(*state)).sum::<u64>().to_string()));
        row.push(show_duration(queues.iter().map(|q| q.latency).max().unwrap_or(Duration::ZERO)));
        row.push(String::new());
        table.row(row);
    }
    table
}

/// `Last hour: 12 runs finished, 1 failed.`
fn last_hour(history: &[HistoryPoint]) -> String {
    let processed: u64 = history.iter().map(|p| p.processed).sum();
    let failed: u64 = history.iter().map(|p| p.failed).sum();
    format!("\nLast hour: {} finished, {failed} failed.\n", plural(processed, "run"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn queues_show_each_state_latency_and_pause_with_a_total() {
        let queue = |name: &str, ready: u64, dead: u64, latency: u64, paused: bool| QueueStats {
            queue: name.into(),
            counts: BTreeMap::from([(JobState::Ready, ready), (JobState::Dead, dead)]),
            latency: Duration::from_secs(latency),
            paused,
        };
        let text = queue_table(&[queue("default", 12, 0, 3, false), queue("mailers", 0, 1, 0, true)]).render();
        assert_eq!(
            text,
            "QUEUE    READY  SCHEDULED  RUNNING  RETRYING  DEAD  COMPLETED  LATENCY  PAUSED\n\
             default     12          0        0         0     0          0       3s\n\
             mailers      0          0        0         0     1          0       0s  paused\n\
             (all)       12          0        0         0     1          0       3s\n"
        );
    }

    #[test]
    fn the_last_hour_adds_up_every_queue_and_class() {
        let point = |queue: &str, processed: u64, failed: u64| HistoryPoint {
            minute: Utc::now(),
            queue: queue.into(),
            class: "SendInvoice".into(),
            processed,
            failed,
        };
        assert_eq!(last_hour(&[point("a", 10, 1), point("b", 2, 0)]), "\nLast hour: 12 runs finished, 1 failed.\n");
        assert_eq!(last_hour(&[]), "\nLast hour: 0 runs finished, 0 failed.\n");
    }
}
