//! `recurring.toml`: recurring tasks in a file, in the shape of Solid Queue's `recurring.yml`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::contract::{Error, MissedTicks, RecurringTask};

use super::task::validate;

/// One entry of the file, as Solid Queue's `recurring.yml` has them (`class`, `args`, `schedule`,
/// `queue`, `priority`, `description`), plus `time_zone` and `missed`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    class: Option<String>,
    #[serde(default)]
    args: Option<toml::Value>,
    schedule: Option<String>,
    queue: Option<String>,
    priority: Option<i32>,
    description: Option<String>,
    time_zone: Option<String>,
    missed: Option<String>,
    /// Solid Queue's `command` (Ruby code to evaluate) has no Rust counterpart.
    command: Option<toml::Value>,
}

/// Reads the recurring tasks of a TOML file: one table per task, keyed by the task's key.
///
/// ```toml
/// [nightly_report]
/// class = "NightlyReport"
/// args = [42, { status = "active" }]   # Active Job arguments, as in the payload
/// schedule = "0 3 * * *"               # cron, @daily, or "every day at 3am"
/// queue = "reports"
/// priority = 10
/// description = "the report of the day before"
/// time_zone = "Europe/Paris"           # default UTC
/// missed = "latest"                    # skip | latest | "all 2h"
/// ```
///
/// Every task is checked (class, schedule, time zone); the error names the file, the task and the
/// schedule. The tasks are static: a worker started with the file replaces the stored static
/// tasks with them, removing those no longer in it.
pub fn read_recurring_file(path: impl AsRef<Path>) -> Result<Vec<RecurringTask>, Error> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read the recurring file {}: {e}", path.display())))?;
    parse_recurring(&text).map_err(|e| Error::Config(format!("{}: {}", path.display(), super::task::config_message(e))))
}

/// Reads recurring tasks from TOML text, as [`read_recurring_file`] does.
///
/// ```
/// let tasks = jobs_core::parse_recurring("[cleanup]\nclass = \"Cleanup\"\nschedule = \"@hourly\"\n").unwrap();
/// assert_eq!((tasks[0].key.as_str(), tasks[0].class.as_str()), ("cleanup", "Cleanup"));
/// assert!(jobs_core::parse_recurring("[cleanup]\nclass = \"Cleanup\"\nschedule = \"@often\"\n").is_err());
/// ```
pub fn parse_recurring(text: &str) -> Result<Vec<RecurringTask>, Error> {
    let entries: BTreeMap<String, Entry> =
        toml::from_str(text).map_err(|e| Error::Config(format!("invalid recurring tasks: {e}")))?;
    entries.into_iter().map(|(key, entry)| task(key, entry)).collect()
}

fn task(key: String, entry: Entry) -> Result<RecurringTask, Error> {
    if entry.command.is_some() {
        return Err(Error::Config(format!(
            "recurring task `{key}`: `command` (Ruby code) is not supported; enqueue a job `class` instead"
        )));
    }
    let class = entry.class.ok_or_else(|| Error::Config(format!("recurring task `{key}` has no `class`")))?;
    let schedule = entry.schedule.ok_or_else(|| Error::Config(format!("recurring task `{key}` has no `schedule`")))?;
    let arguments = match entry.args {
        None => Ok(Vec::new()),
        // As Solid Queue's `Array(args)`: one value is one argument.
        Some(toml::Value::Array(values)) => values.into_iter().map(json).collect::<Result<_, _>>(),
        Some(value) => json(value).map(|value| vec![value]),
    }
    .map_err(|e| Error::Config(format!("recurring task `{key}`: {e}")))?;
    let missed = match entry.missed {
        None => MissedTicks::default(),
        Some(text) => text.parse().map_err(|e| Error::Config(format!("recurring task `{key}`: {e}")))?,
    };
    let task = RecurringTask {
        key,
        schedule,
        time_zone: entry.time_zone,
        class,
        arguments,
        queue: entry.queue,
        priority: entry.priority,
        description: entry.description,
        missed,
        is_static: true,
    };
    validate(&task)?;
    Ok(task)
}

fn json(value: toml::Value) -> Result<Value, String> {
    if let toml::Value::Datetime(at) = &value {
        return Err(format!("argument {at} is a TOML date-time: write it as a string"));
    }
    serde_json::to_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[nightly_report]
class = "NightlyReport"
args = [42, { status = "active" }]
schedule = "0 3 * * *"
queue = "reports"
priority = 10
description = "the report"
time_zone = "Europe/Paris"
missed = "all 2h"

[cleanup]
class = "Cleanup"
args = "tmp"
schedule = "every 5 minutes"
"#;

    #[test]
    fn reads_solid_queue_shaped_tasks() {
        let tasks = parse_recurring(FILE).unwrap();
        let cleanup = &tasks[0];
        assert_eq!((cleanup.key.as_str(), cleanup.arguments.clone()), ("cleanup", vec![Value::from("tmp")]));
        assert_eq!(cleanup.missed, MissedTicks::Latest);
        let report = &tasks[1];
        assert_eq!(report.arguments, vec![serde_json::json!(42), serde_json::json!({"status": "active"})]);
        assert_eq!(report.queue.as_deref(), Some("reports"));
        assert_eq!(report.priority, Some(10));
        assert_eq!(report.time_zone.as_deref(), Some("Europe/Paris"));
        assert_eq!(report.missed, MissedTicks::Within(std::time::Duration::from_secs(7200)));
        assert!(tasks.iter().all(|task| task.is_static));
    }

    #[test]
    fn mistakes_name_the_task_and_the_expression() {
        let error = parse_recurring("[bad]\nclass = \"X\"\nschedule = \"0 25 * * *\"\n").unwrap_err().to_string();
        assert!(error.contains("`bad`") && error.contains("0 25 * * *"), "{error}");
        let error = parse_recurring("[bad]\nclass = \"X\"\nschedule = \"@daily\"\nclas = 1\n").unwrap_err().to_string();
        assert!(error.contains("clas"), "{error}");
        let error = parse_recurring("[bad]\ncommand = \"x\"\nschedule = \"@daily\"\n").unwrap_err().to_string();
        assert!(error.contains("command"), "{error}");
        let error = parse_recurring("[bad]\nclass = \"X\"\n").unwrap_err().to_string();
        assert!(error.contains("schedule"), "{error}");
    }
}
