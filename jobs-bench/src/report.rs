//! What a run reports: one JSON object per run, or a table for people.

use serde::{Deserialize, Serialize};

use crate::burn_down::BurnDown;
use crate::cli::{AdapterKind, RunSettings};
use crate::counting::Calls;
use crate::stats::Percentiles;

/// The results of one run. Its JSON form is the stable output of `--json`, one object a line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// Which backend.
    pub(crate) adapter: AdapterKind,
    /// Versions of the adapter crate and its server.
    pub(crate) adapter_version: String,
    /// Jobs enqueued and drained.
    pub(crate) jobs: u64,
    /// Future jobs present in the store during the run and not drained (`--backlog-scheduled`).
    #[serde(default)]
    pub(crate) backlog_scheduled: u64,
    /// Every drained job under a concurrency limit of 2 per key, over this many keys
    /// (`--limit-keys`); absent without a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) limit_keys: Option<u64>,
    /// Microseconds of CPU each drained job spins (`--job-cpu-us`); absent for no-op jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) job_cpu_us: Option<u64>,
    /// Worker concurrency.
    pub(crate) concurrency: usize,
    /// `"single"` (one `perform_later` per job) or `"bulk"` (`perform_all_later`).
    pub(crate) enqueue_mode: String,
    /// Jobs per `perform_all_later` call, in bulk mode.
    pub(crate) batch_size: Option<u64>,
    /// Tasks enqueueing batches at once (`--enqueuers`); absent for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) enqueuers: Option<u64>,
    /// Seconds to enqueue all jobs.
    pub(crate) enqueue_secs: f64,
    /// Jobs enqueued per second.
    pub(crate) enqueue_jobs_per_sec: f64,
    /// Seconds from starting the worker until every job ran and the worker shut down.
    pub(crate) drain_secs: f64,
    /// Jobs drained per second.
    pub(crate) drain_jobs_per_sec: f64,
    /// CPU time of this process (all threads, not a server's) per drained job, in microseconds:
    /// steadier than jobs/s on a busy machine (Linux only).
    pub(crate) drain_cpu_us_per_job: Option<f64>,
    /// Backend calls made by the drain: claims and completions, and the jobs they carried.
    pub(crate) drain_calls: Calls,
    /// Enqueue→start pickup latency on an idle worker, if measured.
    pub(crate) latency: Option<Percentiles>,
    /// Peak resident set size of the process over the whole run, in bytes.
    pub(crate) peak_rss_bytes: Option<u64>,
    /// Logical CPUs of the machine.
    pub(crate) cpus: usize,
}

impl Report {
    /// Puts one run's measurements together.
    pub(crate) fn new(
        adapter: AdapterKind,
        adapter_version: String,
        settings: &RunSettings,
        burn_down: BurnDown,
        latency: Option<Percentiles>,
        peak_rss_bytes: Option<u64>,
    ) -> Self {
        let rate = |secs: f64| if secs > 0.0 { settings.jobs as f64 / secs } else { 0.0 };
        let (enqueue_secs, drain_secs) = (burn_down.enqueue.as_secs_f64(), burn_down.drain.as_secs_f64());
        Report {
            adapter,
            adapter_version,
            jobs: settings.jobs,
            backlog_scheduled: settings.backlog_scheduled,
            limit_keys: settings.limit_keys,
            job_cpu_us: u64::try_from(settings.job_cpu.as_micros()).ok().filter(|&us| us > 0),
            concurrency: settings.concurrency,
            enqueue_mode: if settings.bulk.is_some() { "bulk" } else { "single" }.to_owned(),
            batch_size: settings.bulk,
            enqueuers: (settings.bulk.is_some() && settings.enqueuers > 1).then_some(settings.enqueuers),
            enqueue_secs,
            enqueue_jobs_per_sec: rate(enqueue_secs),
            drain_secs,
            drain_jobs_per_sec: rate(drain_secs),
            drain_cpu_us_per_job: burn_down.drain_cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / settings.jobs.max(1) as f64),
            drain_calls: burn_down.calls,
            latency,
            peak_rss_bytes,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// The report as one line of JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }
}

/// The reports as a Markdown table, aligned for the terminal and ready to paste.
pub(crate) fn table(reports: &[Report]) -> String {
    let header = [
        "adapter",
        "jobs",
        "scheduled",
        "C",
        "enqueue",
        "enqueue jobs/s",
        "drain jobs/s",
        "drain CPU/job",
        "jobs/claim",
        "jobs/ack",
        "pickup p50",
        "p99",
        "max",
        "peak RSS",
    ];
    let rows: Vec<[String; 14]> = reports.iter().map(row).collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| if i == 0 || i == 4 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = line(&header.map(str::to_owned));
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(
            |(i, w)| {
                if i == 0 || i == 4 { format!(":{}", "-".repeat(w + 1)) } else { format!("{}:", "-".repeat(w + 1)) }
            },
        )
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

fn row(report: &Report) -> [String; 14] {
    let ms = |f: fn(&Percentiles) -> f64| report.latency.as_ref().map_or("-".to_owned(), |p| format_ms(f(p)));
    [
        report.adapter.name().to_owned(),
        match report.job_cpu_us {
            Some(us) => format!("{} × {us} µs", thousands(report.jobs)),
            None => thousands(report.jobs),
        },
        thousands(report.backlog_scheduled),
        report.concurrency.to_string(),
        match (report.batch_size, report.enqueuers) {
            (Some(batch), Some(k)) => format!("bulk ({batch}) × {k}"),
            (Some(batch), None) => format!("bulk ({batch})"),
            (None, _) => report.enqueue_mode.clone(),
        },
        thousands(report.enqueue_jobs_per_sec.round() as u64),
        thousands(report.drain_jobs_per_sec.round() as u64),
        report.drain_cpu_us_per_job.map_or("-".to_owned(), |us| format!("{us:.2} µs")),
        ratio(report.drain_calls.claimed, report.drain_calls.claims),
        ratio(report.drain_calls.completed, report.drain_calls.completes),
        ms(|p| p.p50_ms),
        ms(|p| p.p99_ms),
        ms(|p| p.max_ms),
        report.peak_rss_bytes.map_or("-".to_owned(), |b| format!("{:.0} MiB", b as f64 / (1024.0 * 1024.0))),
    ]
}

/// Jobs per call, one decimal.
fn ratio(jobs: u64, calls: u64) -> String {
    if calls == 0 { "-".to_owned() } else { format!("{:.1}", jobs as f64 / calls as f64) }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A latency in milliseconds with three significant decimals below 10 ms.
fn format_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.3} ms") } else { format!("{ms:.1} ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            adapter: AdapterKind::Memory,
            adapter_version: "jobs-core 0.1.0 (in-process)".into(),
            jobs: 100_000,
            backlog_scheduled: 0,
            limit_keys: None,
            job_cpu_us: None,
            concurrency: 10,
            enqueue_mode: "bulk".into(),
            batch_size: Some(1000),
            enqueuers: None,
            enqueue_secs: 0.25,
            enqueue_jobs_per_sec: 400_000.0,
            drain_secs: 0.5,
            drain_jobs_per_sec: 200_000.0,
            drain_cpu_us_per_job: Some(9.5),
            drain_calls: Calls { claims: 40_000, claimed: 100_000, completes: 1_000, completed: 100_000 },
            latency: Some(Percentiles { samples: 1000, p50_ms: 0.0421, p99_ms: 0.25, max_ms: 12.5 }),
            peak_rss_bytes: Some(64 * 1024 * 1024),
            cpus: 2,
        }
    }

    #[test]
    fn json_is_one_line_that_reads_back() {
        let json = sample().to_json();
        assert!(!json.contains('\n'));
        assert!(json.contains(r#""adapter":"memory""#), "{json}");
        assert!(json.contains(r#""drain_jobs_per_sec":200000.0"#), "{json}");
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), sample());
    }

    #[test]
    fn the_table_has_one_aligned_row_per_run() {
        let table = table(&[
            sample(),
            Report { latency: None, backlog_scheduled: 1_000_000, ..sample() },
            Report { enqueuers: Some(2), ..sample() },
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(lines[4].contains("| bulk (1000) × 2 |"), "{table}");
        assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()), "{table}");
        assert!(lines[2].contains("| bulk (1000)     |") && lines[2].contains(" 400,000 | "), "{table}");
        assert!(
            lines[2].contains("0.042 ms")
                && lines[2].contains("12.5 ms")
                && lines[2].contains("64 MiB")
                && lines[2].contains(" 9.50 µs |")
                && lines[2].contains(" 2.5 |    100.0 |"),
            "{table}"
        );
        assert!(lines[2].contains("| 100,000 |         0 |"), "{table}");
        assert!(lines[3].contains("| 100,000 | 1,000,000 |") && lines[3].contains("|          - |"), "{table}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
