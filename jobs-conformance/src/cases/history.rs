//! Per-minute history: what workers record, summed, kept, returned oldest first.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::Fixture;
use crate::env::Env;
use jobs_core::HistoryPoint;

/// `record_history` adds to what is stored for the same minute, queue and class (two writes
/// sum); `history(since)` returns the minutes from `since` on, oldest first, and keeps a minute
/// of 23 hours ago.
pub async fn history_sums_writes_per_minute(fixture: Fixture) {
    let env = Env::new(fixture);
    let backend = env.backend();
    let now = env.runtime.now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    let (m1, m2) = (now - TimeDelta::minutes(2), now - TimeDelta::minutes(1));
    let day_old = now - TimeDelta::hours(23);

    backend
        .record_history(&[point(m1, "history", "Report", 3, 1), point(m1, "history", "Invoice", 1, 0)])
        .await
        .unwrap();
    backend
        .record_history(&[
            point(m2, "history", "Report", 1, 0),
            point(m1, "history", "Report", 2, 2),
            point(m1, "history-b", "Report", 4, 4),
            point(day_old, "history", "Report", 7, 0),
        ])
        .await
        .unwrap();
    backend.record_history(&[]).await.unwrap();

    let history = env.inspector().history(m1).await.unwrap();
    let mut sorted = history.clone();
    sorted.sort_by(|a, b| (a.minute, &a.queue, &a.class).cmp(&(b.minute, &b.queue, &b.class)));
    assert!(history.windows(2).all(|w| w[0].minute <= w[1].minute), "oldest first: {history:?}");
    assert_eq!(
        sorted,
        vec![
            point(m1, "history", "Invoice", 1, 0),
            point(m1, "history", "Report", 5, 3),
            point(m1, "history-b", "Report", 4, 4),
            point(m2, "history", "Report", 1, 0),
        ]
    );

    assert_eq!(env.inspector().history(m2).await.unwrap(), vec![point(m2, "history", "Report", 1, 0)]);
    assert_eq!(env.inspector().history(now + TimeDelta::minutes(1)).await.unwrap(), vec![], "nothing in the future");
    let day = env.inspector().history(now - TimeDelta::hours(24)).await.unwrap();
    assert_eq!(day.first(), Some(&point(day_old, "history", "Report", 7, 0)), "a minute of 23 hours ago is kept");
    assert_eq!(day.len(), 5, "{day:?}");
}

fn point(minute: DateTime<Utc>, queue: &str, class: &str, processed: u64, failed: u64) -> HistoryPoint {
    HistoryPoint { minute, queue: queue.to_owned(), class: class.to_owned(), processed, failed }
}
