//! `retry`, `discard`, `run-now`, `delete` (by id or by filter) and `purge`.

use chrono::Utc;
use jobs_core::{Inspect, JobAction, JobFilter, JobState, Target};
use serde_json::json;

use crate::args::ActionArgs;
use crate::database::Store;
use crate::exit::Failure;
use crate::output::{Output, plural};
use crate::when::{parse_moment, show_time};

/// What an action does, for messages.
struct Wording {
    /// `retry`
    verb: &'static str,
    /// `Retried 3 jobs`
    done: &'static str,
    /// The states it applies to: `dead`.
    applies_to: &'static str,
}

fn wording(action: JobAction) -> Wording {
    match action {
        JobAction::Retry => Wording { verb: "retry", done: "Retried", applies_to: "dead" },
        JobAction::RunNow => {
            Wording { verb: "run now", done: "Made ready to run now", applies_to: "scheduled, retrying or blocked" }
        }
        JobAction::Discard => Wording {
            verb: "discard",
            done: "Discarded (moved to the dead set)",
            applies_to: "scheduled, ready, retrying or blocked",
        },
        JobAction::Delete => Wording { verb: "delete", done: "Deleted", applies_to: "in any state but running" },
    }
}

pub(super) async fn act(store: &Store, action: JobAction, args: &ActionArgs, out: Output) -> Result<(), Failure> {
    let words = wording(action);
    let inspect = store.inspect()?;
    let (target, unknown) = target(store, inspect, args).await?;
    let changed = match &target {
        Some(target) => {
            let what = format!("{} ({})", words.verb, action.as_str());
            inspect.apply(action, target).await.map_err(|e| store.failure(&what, e))?
        }
        None => 0,
    };
    if out.json {
        out.json(&json!({ "action": action, "changed": changed, "not_found": unknown }))?;
    } else if target.is_some() {
        out.text(&format!("{} {}.\n", words.done, plural(changed, "job")))?;
    }
    if !unknown.is_empty() {
        return Err(Failure::NotFound(format!("no job has id {}", unknown.join(", "))));
    }
    if changed == 0 {
        return Err(Failure::NotFound(format!(
            "nothing to {}: no selected job is {} (running jobs are never touched)",
            words.verb, words.applies_to
        )));
    }
    Ok(())
}

/// The jobs `args` select, and the ids given that name no job. `None`: every id was unknown.
async fn target(
    store: &Store,
    inspect: &dyn Inspect,
    args: &ActionArgs,
) -> Result<(Option<Target>, Vec<String>), Failure> {
    let filtered = !args.filter.is_empty() || args.all_dead || args.all;
    if !args.ids.is_empty() {
        if filtered {
            return Err(Failure::Usage(
                "give job ids or a filter (--state, --queue, --class, --text, --all-dead, --all), not both".into(),
            ));
        }
        // Ids may be backend ids or Active Job job ids: `find` takes both.
        let (mut ids, mut unknown) = (Vec::new(), Vec::new());
        for id in &args.ids {
            match inspect.find(id).await.map_err(|e| store.failure("looking up the job", e))? {
                Some(job) => ids.push(job.id),
                None => unknown.push(id.clone()),
            }
        }
        return Ok(((!ids.is_empty()).then_some(Target::Ids(ids)), unknown));
    }
    if !filtered {
        return Err(Failure::Usage(
            "say which jobs: give job ids, a filter (--state, --queue, --class, --text, --enqueued-after, \
             --enqueued-before), --all-dead, or --all"
                .into(),
        ));
    }
    let mut filter = args.filter.to_filter(Utc::now())?;
    if args.all_dead {
        match filter.state {
            None | Some(JobState::Dead) => filter.state = Some(JobState::Dead),
            Some(other) => return Err(Failure::Usage(format!("--all-dead and --state {other} contradict each other"))),
        }
    }
    Ok((Some(Target::Filter(filter)), Vec::new()))
}

pub(super) async fn purge(store: &Store, completed_before: &str, out: Output) -> Result<(), Failure> {
    let before = parse_moment(completed_before, Utc::now()).map_err(Failure::Usage)?;
    let filter = JobFilter::new().state(JobState::Completed).finished_before(before);
    let deleted = store
        .inspect()?
        .apply(JobAction::Delete, &Target::Filter(filter))
        .await
        .map_err(|e| store.failure("purging completed jobs", e))?;
    if out.json {
        return out.json(&json!({ "deleted": deleted, "completed_before": before }));
    }
    out.text(&format!("Deleted {} that completed before {} UTC.\n", plural(deleted, "job"), show_time(before)))
}
