//! Continuable jobs: progress survives graceful shutdowns, whatever the store.

use crate::Fixture;
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
        // A random row in this stop's share of the rows, so that every stop lands mid-step.
        let share = ROWS / u64::from(STOPS + 1);
        let target = (u64::from(stop) * share + fastrand::u64(1..share)) as usize;
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
