//! `migrate` and `check`: the backend itself rather than its jobs.

use serde_json::json;

use crate::config::Connection;
use crate::database::{self, Finding};
use crate::exit::Failure;
use crate::output::{Output, plural};

pub(super) async fn migrate(connection: &Connection, print_sql: bool, from: i64, out: Output) -> Result<(), Failure> {
    let text = database::migrate(connection, print_sql, from).await?;
    if out.json {
        let key = if print_sql { "sql" } else { "message" };
        return out.json(&json!({ key: text }));
    }
    out.text(&format!("{text}\n"))
}

pub(super) async fn check(connection: &Connection, out: Output) -> Result<(), Failure> {
    let (store, mut findings) = database::check(connection).await?;
    if let Some(store) = &store {
        // Last: the operations API answers, which is what every other command needs.
        let counts = match store.inspect() {
            Ok(inspect) => inspect.counts().await.map_err(|e| store.failure("counting jobs", e)),
            Err(failure) => Err(failure),
        };
        findings.push(match counts {
            Ok(counts) => Finding::ok(
                "inspect",
                format!(
                    "{} to run, {} dead, {} queues",
                    plural(counts.pending(), "job"),
                    counts.total(jobs_core::JobState::Dead),
                    counts.iter().map(|(queue, _, _)| queue).collect::<std::collections::BTreeSet<_>>().len()
                ),
            ),
            Err(failure) => Finding::failed("inspect", failure.to_string()),
        });
    }
    let problems = findings.iter().filter(|f| !f.ok).count() as u64;
    if out.json {
        out.json(&json!({ "ok": problems == 0, "findings": findings }))?;
    } else {
        let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
        let mut text = String::new();
        for finding in &findings {
            let mark = if finding.ok { "ok  " } else { "FAIL" };
            text.push_str(&format!("{mark}  {:<width$}  {}\n", finding.check, finding.detail));
        }
        out.text(&text)?;
    }
    if problems > 0 {
        return Err(Failure::Failed(format!("check found {}", plural(problems, "problem"))));
    }
    Ok(())
}
