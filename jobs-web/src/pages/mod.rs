//! One module per page: what it reads from the operations API and what its actions do.

pub(crate) mod job;
pub(crate) mod jobs;
pub(crate) mod overview;
pub(crate) mod processes;
pub(crate) mod queues;
pub(crate) mod recurring;

use axum::Extension;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::guard::Ctx;
use crate::params::Form;
use crate::render::PageError;

/// Any path the dashboard does not have.
pub(crate) async fn not_found(Extension(ctx): Extension<Ctx>) -> PageError {
    PageError::not_found(format!("no such page in the jobs dashboard; its overview is at {}/", ctx.base))
}

/// After an action: back to the dashboard page `path`, saying what was done (`done`, `n`).
pub(crate) fn done(ctx: &Ctx, path: &str, action: &str, n: u64) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    let location = format!("{}{path}{separator}done={action}&n={n}", ctx.base);
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => PageError::bad_request("cannot go back to that page").into_response(),
    }
}

/// What the page says about the action that led to it: only from a fixed set of sentences,
/// so that a crafted link cannot make the dashboard say anything else.
pub(crate) fn notice(query: &Form) -> Option<String> {
    let n: u64 = query.get("n")?.parse().ok()?;
    let jobs = if n == 1 { "job" } else { "jobs" };
    let text = match query.get("done")? {
        "retry" => format!("Retried {n} {jobs}."),
        "run_now" => format!("{n} {jobs} will run now."),
        "discard" => format!("Discarded {n} {jobs} to the dead set."),
        "delete" => format!("Deleted {n} {jobs}."),
        "clear" => format!("Cleared the queue: {n} waiting {jobs} discarded to the dead set."),
        "pause" => "Paused the queue: workers take none of its jobs until it is resumed.".to_owned(),
        "resume" => "Resumed the queue.".to_owned(),
        "quiet" if n > 0 => "Asked the process to go quiet: it takes no new jobs.".to_owned(),
        "stop" if n > 0 => "Asked the process to stop.".to_owned(),
        "quiet" | "stop" => "No live process has that id any more.".to_owned(),
        "task_run" => "Enqueued the task's job now.".to_owned(),
        "task_pause" if n > 0 => "Paused the task: it enqueues nothing until resumed.".to_owned(),
        "task_resume" if n > 0 => "Resumed the task from its next tick.".to_owned(),
        "task_pause" | "task_resume" => "No task has that key any more.".to_owned(),
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_come_from_a_fixed_set() {
        assert_eq!(notice(&Form::parse(b"done=retry&n=3")).as_deref(), Some("Retried 3 jobs."));
        assert_eq!(notice(&Form::parse(b"done=discard&n=1")).as_deref(), Some("Discarded 1 job to the dead set."));
        assert_eq!(notice(&Form::parse(b"done=%3Cscript%3E&n=1")), None);
        assert_eq!(notice(&Form::parse(b"done=retry&n=lots")), None);
    }
}
