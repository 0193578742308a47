//! Counting runs per minute, queue and job class, for the backend's history.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use crate::contract::{Backend, Error, HistoryPoint};
use crate::support::hash::Words;

/// Processed and failed runs: minute (in Unix minutes) → queue → class → (processed, failed).
/// Queues and classes are the program's own names, so their maps hash with [`Words`], which
/// costs a run a few multiplications where SipHash cost it ~600 instructions.
type Counts = HashMap<i64, HashMap<String, HashMap<String, (u64, u64), Words>, Words>, Words>;

/// Processed and failed runs since the last flush.
#[derive(Debug)]
pub(super) struct Tally {
    counts: Mutex<Counts>,
    /// False once the backend said it keeps no history: counting stops.
    supported: AtomicBool,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { counts: Mutex::default(), supported: AtomicBool::new(true) }
    }
}

impl Tally {
    /// Counts one finished run at `at` (allocating only for a new minute, queue or class).
    pub(super) fn count(&self, at: DateTime<Utc>, queue: &str, class: &str, failed: bool) {
        if !self.supported.load(Ordering::Relaxed) {
            return;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let queues = counts.entry(at.timestamp().div_euclid(60)).or_default();
        let classes = match queues.get_mut(queue) {
            Some(classes) => classes,
            None => queues.entry(queue.to_owned()).or_default(),
        };
        let count = match classes.get_mut(class) {
            Some(count) => count,
            None => classes.entry(class.to_owned()).or_default(),
        };
        count.0 += 1;
        count.1 += u64::from(failed);
    }

    /// Writes what was counted since the last flush; keeps it for the next one if the write fails.
    pub(super) async fn flush(&self, backend: &dyn Backend) {
        let taken = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        if taken.is_empty() {
            return;
        }
        let points = points(&taken);
        match backend.record_history(&points).await {
            Ok(()) => {}
            Err(Error::NotSupported { .. }) => {
                tracing::debug!(target: "jobs", "The backend keeps no history of runs");
                self.supported.store(false, Ordering::Relaxed);
            }
            Err(error) => {
                tracing::warn!(target: "jobs", %error, "Could not record the history of runs; trying again later");
                for point in points {
                    self.add(point);
                }
            }
        }
    }

    fn add(&self, point: HistoryPoint) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let minute = point.minute.timestamp().div_euclid(60);
        let count = counts.entry(minute).or_default().entry(point.queue).or_default().entry(point.class).or_default();
        count.0 += point.processed;
        count.1 += point.failed;
    }
}

fn points(counts: &Counts) -> Vec<HistoryPoint> {
    let mut points = Vec::new();
    for (minute, queues) in counts {
        let Some(minute) = DateTime::from_timestamp(minute * 60, 0) else { continue };
        for (queue, classes) in queues {
            for (class, (processed, failed)) in classes {
                let (queue, class) = (queue.clone(), class.clone());
                points.push(HistoryPoint { minute, queue, class, processed: *processed, failed: *failed });
            }
        }
    }
    points.sort_by(|a, b| (a.minute, &a.queue, &a.class).cmp(&(b.minute, &b.queue, &b.class)));
    points
}
