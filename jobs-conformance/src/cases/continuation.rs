//! Continuable jobs: progress survives graceful shutdowns and lost workers, whatever the store.

use jobs_core::{Continuation, CurrentStep, JobData};
use serde_json::json;

use crate::Fixture;
use crate::cases::leases::short_lease;
use crate::env::{Env, Start};
use crate::jobs::Import;

const ROWS: u64 = 10_000;
const STOPS: u32 = 5;

/// A 10,000-row import whose worker is shut down five times at random points finishes with every
/// row saved exactly once and its completed steps never run again: each shutdown interrupts it at
/// a checkpoint, and it is stored again with its cursor and resumed from there.
pub async fn continuation_resumes_after_shutdowns(fixture: Fixture) {
    let env = Env::new(fixture);
    let imports = &env.probe.imports;
    env.enqueue("continuation", Import { rows: ROWS }).await;
    for stop in 0..STOPS {
        let worker = env.worker(&["continuation"]).concurrency(1).start();
        env.wait_for("the worker to resume the import", || imports.runs().len() > stop as usize).await;
        // A random row in this stop's share of the rows, so that every stop lands mid-step; past
        // the rows already saved, as a slow shutdown may have carried the last run beyond it.
        let share = ROWS / u64::from(STOPS + 1);
        let planned = (u64::from(stop) * share + fastrand::u64(1..share)) as usize;
        let target = planned.max(imports.row_count() + 1);
        env.wait_for("the import to reach its stop", || imports.row_count() >= target).await;
        worker.shutdown().await.unwrap();
        let runs = imports.runs();
        assert_eq!(runs.len(), stop as usize + 1, "one run per worker so far: {runs:?}");
        assert!(imports.row_count() < ROWS as usize, "the import finished before stop {stop}");
    }
    let worker = env.worker(&["continuation"]).start();
    env.wait_for("the import to finish", || imports.step_runs("finish") == 1).await;
    worker.shutdown().await.unwrap();

    let mut rows = imports.rows();
    let saved = rows.len();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows.len(), saved, "a row was saved twice");
    assert_eq!(rows, (0..ROWS).collect::<Vec<_>>(), "every row saved");
    assert_eq!(imports.step_runs("prepare"), 1, "a completed step ran again");
    assert_eq!(imports.step_runs("finish"), 1);
    assert_eq!(imports.step_runs("rows"), STOPS as usize + 1, "the rows step resumed after each stop");
    assert_eq!(imports.runs(), (0..=STOPS).collect::<Vec<_>>(), "each run counted one more resumption");
}

/// Progress a worker stores under its claim (`save_progress`) is what the job is claimed again
/// with once that worker is gone (its lease expired, no heartbeat: a `kill -9`), and a run then
/// skips the completed steps and resumes at the stored cursor; a claim that is no longer current
/// stores nothing.
pub async fn saved_progress_survives_a_lost_worker(fixture: Fixture) {
    let env = Env::new(fixture);
    let imports = &env.probe.imports;
    let id = env.enqueue("checkpoints", Import { rows: 20 }).await;
    let lease = short_lease(&env);
    let first = env.claim_one("checkpoints", lease).await;
    assert_eq!(first.ticket.id, id);
    // What a worker stores at a checkpoint: the payload with its progress, attempt given back.
    let at = |cursor: u64| {
        let mut data = JobData::from_json(&first.payload).unwrap();
        data.resumptions = Some(0);
        data.continuation = Some(Continuation {
            completed: vec!["prepare".into()],
            current: Some(CurrentStep { name: "rows".into(), cursor: json!(cursor) }),
        });
        data.to_json().unwrap()
    };
    let cursor_of = |payload: &str| {
        let data = JobData::from_json(payload).unwrap();
        data.continuation.and_then(|c| c.current).map(|current| current.cursor)
    };
    let backend = env.backend();
    assert!(backend.save_progress(&first.ticket, &at(5)).await.unwrap(), "the current claim stores progress");
    assert!(backend.save_progress(&first.ticket, &at(12)).await.unwrap(), "and again");

    env.outlive(lease).await;
    env.rescue(1).await;
    assert!(!backend.save_progress(&first.ticket, &at(3)).await.unwrap(), "a rescued claim is stale");
    let second = env.claim_one("checkpoints", lease).await;
    assert_eq!(second.ticket.id, id);
    assert_eq!(cursor_of(&second.payload), Some(json!(12)), "the rescued job carries the last stored progress");
    assert!(!backend.save_progress(&first.ticket, &at(4)).await.unwrap(), "a stale claim stores nothing");
    assert!(backend.save_progress(&second.ticket, &at(15)).await.unwrap());

    env.outlive(lease).await;
    env.rescue(1).await;
    let rescued = env.find(&id).await;
    assert_eq!(cursor_of(&rescued.payload), Some(json!(15)), "the stale save changed nothing");
    assert_eq!(rescued.attempts, 2, "both lost runs stay counted");

    let worker = env.worker(&["checkpoints"]).start();
    env.wait_for("the import to finish", || imports.step_runs("finish") == 1).await;
    worker.shutdown().await.unwrap();
    assert_eq!(imports.rows(), (15..20).collect::<Vec<_>>(), "the run resumed at the stored cursor");
    assert_eq!(imports.step_runs("prepare"), 0, "a completed step ran again");
    assert_eq!(imports.runs(), vec![1], "the run counted a resumption");
}
