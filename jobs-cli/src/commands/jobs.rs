//! `list` and `show`: jobs as the operations API finds them.

use chrono::Utc;
use jobs_core::{JobInfo, ListParams, Registry};

use crate::args::ListArgs;
use crate::database::Store;
use crate::exit::Failure;
use crate::output::{Align, Output, Table, clip};
use crate::when::show_time;

pub(super) async fn list(store: &Store, args: &ListArgs, out: Output) -> Result<(), Failure> {
    if args.limit == 0 {
        return Err(Failure::Usage("--limit must be at least 1".into()));
    }
    let mut params = ListParams::new().filter(args.filter.to_filter(Utc::now())?).limit(args.limit);
    if let Some(cursor) = &args.after {
        params = params.after(cursor.clone());
    }
    if args.newest_first {
        params = params.newest_first();
    }
    let mut page = store.inspect()?.list(&params).await.map_err(|e| store.failure("listing jobs", e))?;
    if out.json {
        let secrets = Secrets::of_this_program();
        page.jobs = page.jobs.into_iter().map(|job| secrets.shown(job)).collect();
        return out.json(&page);
    }
    if page.jobs.is_empty() {
        return out.text("No jobs match.\n");
    }
    let mut text = table(&page.jobs).render();
    if let Some(next) = &page.next {
        text.push_str(&format!("\nMore jobs match: add --after {next} for the next page.\n"));
    }
    out.text(&text)
}

fn table(jobs: &[JobInfo]) -> Table {
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("CLASS", Align::Left),
        ("QUEUE", Align::Left),
        ("STATE", Align::Left),
        ("ATTEMPTS", Align::Right),
        ("ENQUEUED", Align::Left),
        ("RUN AT", Align::Left),
        ("LAST ERROR", Align::Left),
    ]);
    let time = |t: Option<chrono::DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), show_time);
    for job in jobs {
        let error = job.errors.last().map_or_else(String::new, |e| clip(&format!("{}: {}", e.class, e.message), 60));
        table.row(vec![
            job.id.clone(),
            job.class.clone(),
            job.queue.clone(),
            job.state.as_str().to_owned(),
            job.attempts.to_string(),
            time(job.enqueued_at),
            time(job.run_at),
            error,
        ]);
    }
    table
}

pub(super) async fn show(store: &Store, id: &str, out: Output) -> Result<(), Failure> {
    let job = store.inspect()?.find(id).await.map_err(|e| store.failure("looking up the job", e))?;
    let job = job
        .ok_or_else(|| Failure::NotFound(format!("no job has id {id}, as a backend id or as an Active Job job id")))?;
    let hidden = Secrets::of_this_program().hides(&job.class);
    if out.json {
        return out.json(&if hidden { redacted(job) } else { job });
    }
    out.text(&describe(&job, hidden))
}

/// The job classes of this program declared `log_arguments = false`: their arguments are
/// printed as `[redacted]`, as the dashboard shows them. An application's own binary
/// (`jobs::cli::run()`) knows its classes; the standalone `jobs` binary knows none.
struct Secrets(Option<Registry>);

impl Secrets {
    fn of_this_program() -> Self {
        Secrets(Registry::from_inventory().ok())
    }

    fn hides(&self, class: &str) -> bool {
        self.0.as_ref().and_then(|registry| registry.get(class)).is_some_and(|job| !job.log_arguments())
    }

    /// `job`, its arguments redacted if its class hides them.
    fn shown(&self, job: JobInfo) -> JobInfo {
        if self.hides(&job.class) { redacted(job) } else { job }
    }
}

/// `job` with the arguments in its payload replaced by `"[redacted]"` (the whole payload, when
/// it is not readable JSON).
fn redacted(mut job: JobInfo) -> JobInfo {
    job.payload = match serde_json::from_str::<serde_json::Value>(&job.payload) {
        Ok(mut payload) => {
            if let Some(arguments) = payload.get_mut("arguments") {
                *arguments = serde_json::Value::from(REDACTED);
            }
            payload.to_string()
        }
        Err(_) => REDACTED.to_owned(),
    };
    job
}

const REDACTED: &str = "[redacted]";

/// A job as `show` prints it: one field a line, then its arguments (or `[redacted]` when
/// `hidden`) and errors.
fn describe(job: &JobInfo, hidden: bool) -> String {
    let time = |t: Option<chrono::DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| format!("{} UTC", show_time(t)));
    let or_dash = |text: Option<&str>| text.unwrap_or("-").to_owned();
    let fields = [
        ("id", job.id.clone()),
        ("job id", or_dash(job.job_id.as_deref())),
        ("class", job.class.clone()),
        ("queue", job.queue.clone()),
        ("state", job.state.as_str().to_owned()),
        ("priority", job.priority.to_string()),
        ("attempts", job.attempts.to_string()),
        ("enqueued at", time(job.enqueued_at)),
        ("run at", time(job.run_at)),
        ("started at", time(job.started_at)),
        ("finished at", time(job.finished_at)),
        ("worker", or_dash(job.worker_id.as_deref())),
    ];
    let mut text = String::new();
    for (name, value) in fields {
        text.push_str(&format!("{name:<12} {value}\n"));
    }
    match job.data() {
        Ok(data) if hidden => {
            text.push_str(&format!("arguments    {REDACTED}\n"));
            text.push_str(&format!("executions   {}\n", data.executions));
        }
        Err(_) if hidden => text.push_str(&format!("payload      {REDACTED}\n")),
        Ok(data) => {
            // Short arguments on one line, long ones one value a line.
            let compact = serde_json::to_string(&data.arguments).unwrap_or_else(|e| e.to_string());
            let arguments = if compact.chars().count() <= 80 {
                compact
            } else {
                serde_json::to_string_pretty(&data.arguments).unwrap_or(compact)
            };
            text.push_str(&format!("arguments    {}\n", indent(&arguments)));
            text.push_str(&format!("executions   {}\n", data.executions));
        }
        Err(error) => {
            text.push_str(&format!("payload      {} (not readable: {error})\n", clip(&job.payload, 200)));
        }
    }
    if job.errors.is_empty() {
        text.push_str("errors       none\n");
    } else {
        text.push_str("errors\n");
        for error in &job.errors {
            text.push_str(&format!(
                "  attempt {} at {} UTC: {}\n    {}\n",
                error.attempt,
                show_time(error.at),
                error.class,
                error.message.replace('\n', "\n    ")
            ));
        }
    }
    text
}

/// Continuation lines indented under the value column.
fn indent(text: &str) -> String {
    text.replace('\n', "\n             ")
}

#[cfg(test)]
mod tests {
    use jobs_core::JobState;
    use jobs_core::adapter::ErrorRecord;

    use super::*;

    fn dead_job() -> JobInfo {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        JobInfo {
            id: "17".into(),
            job_id: Some("0e5b5b4e-0c46-4b8f-9d34-7c1b1c6c4d1a".into()),
            class: "SendInvoice".into(),
            queue: "billing".into(),
            priority: 0,
            state: JobState::Dead,
            attempts: 3,
            run_at: Some(at),
            enqueued_at: Some(at),
            started_at: None,
            finished_at: Some(at),
            worker_id: None,
            payload: r#"{"job_class":"SendInvoice","job_id":"0e5b5b4e-0c46-4b8f-9d34-7c1b1c6c4d1a","arguments":[42]}"#
                .into(),
            errors: vec![ErrorRecord { class: "RuntimeError".into(), message: "smtp busy".into(), attempt: 3, at }],
        }
    }

    #[test]
    fn show_prints_fields_arguments_and_errors() {
        let text = describe(&dead_job(), false);
        assert!(text.contains("job id       0e5b5b4e-0c46-4b8f-9d34-7c1b1c6c4d1a\n"), "{text}");
        assert!(text.contains("state        dead\n"), "{text}");
        assert!(text.contains("arguments    [42]\n"), "{text}");
        assert!(text.contains("  attempt 3 at 2026-12-06 12:00:00 UTC: RuntimeError\n    smtp busy\n"), "{text}");
    }

    #[test]
    fn an_unreadable_payload_is_shown_as_it_is() {
        let job = JobInfo { payload: "not json".into(), errors: vec![], ..dead_job() };
        let text = describe(&job, false);
        assert!(text.contains("payload      not json (not readable:"), "{text}");
        assert!(text.contains("errors       none\n"), "{text}");
    }

    /// A class of this test program whose arguments are secret.
    #[jobs_macros::job(crate = "::jobs_core", log_arguments = false)]
    async fn send_invoice(invoice: u64) {
        let _ = invoice;
    }

    #[test]
    fn arguments_of_a_class_declared_log_arguments_false_are_redacted() {
        let secrets = Secrets::of_this_program();
        assert!(secrets.hides("SendInvoice") && !secrets.hides("SomethingElse"));
        let text = describe(&dead_job(), secrets.hides("SendInvoice"));
        assert!(text.contains("arguments    [redacted]\n") && !text.contains("42"), "{text}");
        assert!(text.contains("smtp busy"), "the errors are still shown: {text}");
        let json = secrets.shown(dead_job()).payload;
        assert!(json.contains(r#""arguments":"[redacted]""#) && !json.contains("42"), "{json}");
        assert!(json.contains(r#""job_class":"SendInvoice""#), "{json}");
        let unreadable = secrets.shown(JobInfo { payload: "secret 42".into(), ..dead_job() });
        assert_eq!(unreadable.payload, "[redacted]");
        let other = JobInfo { class: "Other".into(), ..dead_job() };
        assert_eq!(secrets.shown(other.clone()).payload, other.payload, "other classes are shown");
    }

    #[test]
    fn list_shows_the_last_error_on_one_line() {
        let text = table(&[dead_job()]).render();
        assert!(text.starts_with("ID  CLASS        QUEUE    STATE  ATTEMPTS  ENQUEUED"), "{text}");
        assert!(text.contains("RuntimeError: smtp busy"), "{text}");
    }
}
