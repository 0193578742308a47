//! Percentiles of latency samples, and the peak resident set size of this process.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The distribution of a set of latency samples, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Percentiles {
    /// How many samples.
    pub(crate) samples: u64,
    /// The median.
    pub(crate) p50_ms: f64,
    /// The 99th percentile.
    pub(crate) p99_ms: f64,
    /// The slowest sample.
    pub(crate) max_ms: f64,
}

impl Percentiles {
    /// Computes the percentiles of `samples` (nearest rank); all zero for no samples.
    pub(crate) fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
        Percentiles {
            samples: samples.len() as u64,
            p50_ms: ms(nearest_rank(&samples, 50.0)),
            p99_ms: ms(nearest_rank(&samples, 99.0)),
            max_ms: ms(samples.last()),
        }
    }
}

/// The `p`th percentile of sorted `samples` by the nearest-rank method: the smallest sample such
/// that at least `p`% of all samples are at most it.
pub(crate) fn nearest_rank<T>(sorted: &[T], p: f64) -> Option<&T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1)
}

/// Resets the process's peak RSS to its current RSS, so that the next reading covers only
/// what follows (Linux; elsewhere nothing happens).
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size of this process, in bytes (`VmHWM` on Linux; `None` elsewhere).
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_hwm_bytes(&status)
}

/// Each live thread's time on CPU so far, by thread id (from `/proc/self/task/*/schedstat`, in
/// nanoseconds; `None` off Linux).
#[derive(Debug)]
pub(crate) struct ThreadTimes(std::collections::HashMap<u64, u64>);

impl ThreadTimes {
    /// The times of the threads alive now.
    pub(crate) fn now() -> Option<ThreadTimes> {
        let mut times = std::collections::HashMap::new();
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|name| name.parse().ok()) else { continue };
            // A thread may exit between listing and reading: it is then left out.
            let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
            times.insert(tid, schedstat.split_whitespace().next()?.parse::<u64>().ok()?);
        }
        Some(ThreadTimes(times))
    }

    /// The CPU time spent from `earlier` to these times: each thread's gain, a new thread's
    /// whole time. A thread that exited in between counts for nothing (its time is gone with it;
    /// a sum over the live threads would subtract what it spent before `earlier`).
    pub(crate) fn since(&self, earlier: &ThreadTimes) -> Duration {
        let spent = self.0.iter().map(|(tid, &now)| now.saturating_sub(earlier.0.get(tid).copied().unwrap_or(0))).sum();
        Duration::from_nanos(spent)
    }
}

/// Reads `VmHWM` (in kB) out of a `/proc/<pid>/status` text.
fn vm_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_times_count_gains_and_new_threads_never_exited_ones() {
        let times = |pairs: &[(u64, u64)]| ThreadTimes(pairs.iter().copied().collect());
        let before = times(&[(1, 100), (2, 5_000), (3, 40)]);
        // Thread 2 exited (it had spent 5 000 before), 4 is new.
        let after = times(&[(1, 350), (3, 40), (4, 70)]);
        assert_eq!(after.since(&before), Duration::from_nanos(250 + 70));
        #[cfg(target_os = "linux")]
        {
            let start = ThreadTimes::now().expect("Linux has /proc/self/task");
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            assert!(ThreadTimes::now().unwrap().since(&start) > Duration::ZERO, "{x}");
        }
    }

    #[test]
    fn nearest_rank_picks_the_sample_at_or_above_the_percentile() {
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 50.0), Some(&50));
        assert_eq!(nearest_rank(&hundred, 99.0), Some(&99));
        assert_eq!(nearest_rank(&hundred, 100.0), Some(&100));
        assert_eq!(nearest_rank(&hundred, 0.0), Some(&1));
        assert_eq!(nearest_rank(&[7], 99.0), Some(&7));
        assert_eq!(nearest_rank(&[1, 2, 3], 50.0), Some(&2));
        assert_eq!(nearest_rank::<u32>(&[], 50.0), None);
    }

    #[test]
    fn percentiles_sort_their_samples_and_report_milliseconds() {
        let samples: Vec<Duration> = (1..=1000).rev().map(Duration::from_micros).collect();
        let p = Percentiles::of(samples);
        assert_eq!(p.samples, 1000);
        assert!((p.p50_ms - 0.5).abs() < 1e-9, "{p:?}");
        assert!((p.p99_ms - 0.99).abs() < 1e-9, "{p:?}");
        assert!((p.max_ms - 1.0).abs() < 1e-9, "{p:?}");
        assert_eq!(Percentiles::of(Vec::new()).max_ms, 0.0);
    }

    #[test]
    fn reads_the_peak_rss_from_proc_status() {
        let status = "Name:\tjobs-bench\nVmPeak:\t  20000 kB\nVmHWM:\t    1536 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(vm_hwm_bytes(status), Some(1536 * 1024));
        assert_eq!(vm_hwm_bytes("Name:\tx\n"), None);
    }
}
