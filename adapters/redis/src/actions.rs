//! Acting on jobs ([`Inspect::apply`](jobs_core::Inspect::apply)): a walk finds the jobs the
//! target selects, a batch at a time, and `act.lua` changes each batch atomically — a job that
//! moved meanwhile (claimed, promoted) is left alone and not counted.
//!
//! As Sidekiq's own API does: run now moves a job of the schedule or retry set into its queue
//! ("add to queue"), retry moves a dead job into its queue, both stamping `enqueued_at` and
//! waking idle workers (run now on a blocked job makes it ready: claimed, it asks for a slot
//! again); discard moves a job into the dead set with an error of class
//! [`JobAction::DISCARDED`] in Sidekiq's error fields; delete removes it. Running jobs (in a
//! working hash) are never touched.

use jobs_core::{Error, JobAction, JobFilter, Target};

use crate::adapter::RedisAdapter;
use crate::listing::{Found, Walk};
use crate::rewrite;
use crate::scripts;

/// How many jobs one `act.lua` call changes at most.
const ACT_BATCH: usize = 200;

impl RedisAdapter {
    pub(crate) async fn apply_action(&self, action: JobAction, target: &Target) -> Result<u64, Error> {
        let every = JobFilter::new();
        let (filter, ids) = match target {
            Target::Ids(ids) => {
                let ids: Vec<String> =
                    ids.iter().filter(|id| !id.is_empty() && !id.contains(['"', '\\'])).cloned().collect();
                if ids.is_empty() {
                    return Ok(0);
                }
                (&every, Some(ids))
            }
            Target::Filter(filter) => (filter, None),
        };
        let walk = Walk { filter, ids: ids.as_deref(), desc: false };
        let mut changed = 0;
        let mut from = None;
        loop {
            let batch = walk.next(self, from, ACT_BATCH).await?;
            let mut resume = batch.resume;
            let chosen: Vec<&Found> =
                batch.found.iter().filter(|f| f.entry.kind != "w" && action.applies_to(f.info.state)).collect();
            if !chosen.is_empty() {
                let mut call = self.invocation(&scripts::ACT);
                for found in &chosen {
                    let entry = &found.entry;
                    let (op, new) = match action {
                        JobAction::Delete => ("delete", String::new()),
                        JobAction::Retry | JobAction::RunNow => ("enqueue", rewrite::requeued(&entry.job, batch.now)),
                        JobAction::Discard => ("kill", rewrite::discarded(&entry.job, batch.now)),
                    };
                    let name = if matches!(entry.kind.as_str(), "q" | "b") { entry.extra.as_str() } else { "" };
                    call.arg(op).arg(&entry.kind).arg(name).arg(&entry.job).arg(new);
                }
                changed += self.run::<u64>(&call).await?;
                // Jobs taken out of the list being walked bring the position nearer the walk's
                // start by as many.
                let list = |kind: &str| matches!(kind, "q" | "b");
                if let Some(cursor) = resume.as_mut().filter(|c| list(&c.kind) && !c.position.is_empty()) {
                    let gone =
                        chosen.iter().filter(|f| f.entry.kind == cursor.kind && f.entry.extra == cursor.name).count();
                    let position = cursor.position.parse::<i64>().unwrap_or(0) - gone as i64;
                    cursor.position = position.max(-1).to_string();
                    cursor.jid.clear();
                }
            }
            match resume {
                Some(cursor) => from = Some(cursor),
                None => return Ok(changed),
            }
        }
    }
}
