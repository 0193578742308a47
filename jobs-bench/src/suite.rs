//! `--suite`: the standard matrix over every adapter that is built in and reachable.
//!
//! Each run is a child process of this binary, so that its peak RSS and its threads are its own.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::cli::{AdapterKind, Args};
use crate::report::{self, Report};

/// The exit code of a run whose adapter is unavailable (see `main`).
const UNAVAILABLE: i32 = 3;

/// One run of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cell {
    adapter: AdapterKind,
    jobs: u64,
    concurrency: usize,
    bulk: bool,
    latency: u64,
    /// Future jobs stored before the run (`--backlog-scheduled`).
    backlog: u64,
}

/// The standard matrix for one adapter: N jobs (20k for SQLite, 100k otherwise) at C = 10 and
/// 100, enqueued one by one and in bulk; pickup latency (L = 1000) in the one-by-one runs. With a
/// backlog of scheduled jobs (opt-in: filling a million takes a while), the two C = 10 runs once
/// more with the backlog stored.
fn matrix(adapter: AdapterKind, jobs: Option<u64>, backlog: u64) -> Vec<Cell> {
    let jobs = jobs.unwrap_or(match adapter {
        AdapterKind::Sqlite => 20_000,
        AdapterKind::Memory | AdapterKind::Postgres | AdapterKind::Redis => 100_000,
    });
    let mut cells = Vec::new();
    for concurrency in [10, 100] {
        for bulk in [false, true] {
            cells.push(Cell { adapter, jobs, concurrency, bulk, latency: if bulk { 0 } else { 1_000 }, backlog: 0 });
        }
    }
    if backlog > 0 {
        let with_backlog: Vec<Cell> =
            cells.iter().filter(|c| c.concurrency == 10).map(|c| Cell { backlog, ..*c }).collect();
        cells.extend(with_backlog);
    }
    cells
}

/// What became of one run.
enum Outcome {
    /// It ran.
    Measured(Box<Report>),
    /// Its adapter is not built in, not yet available, or not reachable.
    Unavailable(String),
    /// It failed.
    Failed(String),
}

/// Runs the matrix; prints a table (or JSON lines) and a notice for each adapter skipped.
pub(crate) fn run(args: &Args) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            eprintln!("error: cannot find this binary to run the suite: {error}");
            return ExitCode::FAILURE;
        }
    };
    let adapters: Vec<AdapterKind> = match args.adapter {
        Some(adapter) => vec![adapter],
        None => AdapterKind::ALL.to_vec(),
    };
    let load = load_average();
    if let Some(load) = &load {
        eprintln!("load average before the suite: {load}");
    }
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = false;
    'adapters: for adapter in adapters {
        for cell in matrix(adapter, args.jobs, args.backlog_scheduled) {
            let mut measured = Vec::new();
            for _ in 0..args.repeat.max(1) {
                let run_started = Instant::now();
                match run_cell(&exe, args, cell) {
                    Outcome::Measured(report) => {
                        eprintln!(
                            "{:<8} N={:<7} S={:<7} C={:<3} {:<6} {:>9.0} jobs/s drained, done in {:.1} s",
                            adapter.name(),
                            cell.jobs,
                            cell.backlog,
                            cell.concurrency,
                            report.enqueue_mode,
                            report.drain_jobs_per_sec,
                            run_started.elapsed().as_secs_f64()
                        );
                        measured.push(*report);
                    }
                    Outcome::Unavailable(reason) => {
                        eprintln!("skipping {}: {reason}", adapter.name());
                        skipped.push(reason);
                        continue 'adapters;
                    }
                    Outcome::Failed(error) => {
                        failed = true;
                        eprintln!("run failed: {cell:?}: {error}");
                    }
                }
            }
            if let Some(report) = median_run(measured) {
                if args.json {
                    println!("{}", report.to_json());
                }
                reports.push(report);
            }
        }
    }
    if !args.json {
        print_summary(&reports, &skipped, args.repeat, load.as_deref());
    }
    eprintln!("suite finished in {:.1} s", started.elapsed().as_secs_f64());
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The table for people, with what it was measured on and what was skipped.
fn print_summary(reports: &[Report], skipped: &[String], repeat: u32, load: Option<&str>) {
    if reports.is_empty() {
        println!("no adapter could be measured");
    } else {
        print!("{}", report::table(reports));
        let mut versions: Vec<(&str, &str)> =
            reports.iter().map(|r| (r.adapter.name(), r.adapter_version.as_str())).collect();
        versions.dedup();
        for (adapter, version) in versions {
            println!("{adapter}: {version}");
        }
        if repeat > 1 {
            println!("each row: the run with the median drain rate of {repeat}");
        }
    }
    if let Some(load) = load {
        println!("load average before the suite: {load}");
    }
    for reason in skipped {
        println!("skipped: {reason}");
    }
}

/// Runs one cell of the matrix in a child process of this binary.
fn run_cell(exe: &Path, args: &Args, cell: Cell) -> Outcome {
    let mut command = Command::new(exe);
    command
        .args(["--adapter", cell.adapter.name(), "--json"])
        .args(["--jobs", &cell.jobs.to_string()])
        .args(["--concurrency", &cell.concurrency.to_string()])
        .args(["--latency", &cell.latency.to_string()])
        .args(["--batch-size", &args.batch_size.to_string()])
        .args(["--enqueuers", &args.enqueuers.to_string()])
        .args(["--stall-secs", &args.stall_secs.to_string()])
        .args(["--backlog-scheduled", &cell.backlog.to_string()])
        .stdin(Stdio::null());
    if cell.bulk {
        command.arg("--bulk");
    }
    if args.backlog_fresh {
        command.arg("--backlog-fresh");
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => return Outcome::Failed(format!("cannot start {}: {error}", exe.display())),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(UNAVAILABLE) {
        return Outcome::Unavailable(stderr.trim().trim_start_matches("error: ").to_owned());
    }
    let report = String::from_utf8_lossy(&output.stdout).lines().find_map(|l| serde_json::from_str(l).ok());
    match report {
        Some(report) if output.status.success() => Outcome::Measured(Box::new(report)),
        _ => Outcome::Failed(format!("{}: {}", output.status, stderr.trim())),
    }
}

/// Of repeated runs, the one with the median drain rate (the slower middle one of an even count).
fn median_run(mut runs: Vec<Report>) -> Option<Report> {
    runs.sort_by(|a, b| a.drain_jobs_per_sec.total_cmp(&b.drain_jobs_per_sec));
    let middle = runs.len().checked_sub(1)? / 2;
    Some(runs.swap_remove(middle))
}

/// The 1, 5 and 15 minute load averages, to tell a quiet machine from a busy one (Linux only).
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_matrix() {
        let cells = matrix(AdapterKind::Postgres, None, 0);
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|c| c.backlog == 0));
        assert!(cells.iter().all(|c| c.jobs == 100_000));
        assert_eq!(cells.iter().filter(|c| c.concurrency == 100).count(), 2);
        assert!(cells.iter().all(|c| (c.latency == 1_000) != c.bulk));
        assert!(matrix(AdapterKind::Sqlite, None, 0).iter().all(|c| c.jobs == 20_000));
        assert!(matrix(AdapterKind::Memory, Some(500), 0).iter().all(|c| c.jobs == 500));
    }

    #[test]
    fn a_backlog_adds_the_c10_runs_with_it() {
        let cells = matrix(AdapterKind::Postgres, None, 1_000_000);
        assert_eq!(cells.len(), 6);
        let with: Vec<&Cell> = cells.iter().filter(|c| c.backlog == 1_000_000).collect();
        assert_eq!(with.len(), 2);
        assert!(with.iter().all(|c| c.concurrency == 10 && c.jobs == 100_000));
        assert_eq!(with.iter().filter(|c| c.bulk).count(), 1);
    }

    #[test]
    fn repeated_runs_keep_the_median() {
        let run = |rate: f64| {
            let json = format!(
                r#"{{"adapter":"memory","adapter_version":"v","jobs":1,"concurrency":1,"enqueue_mode":"single",
                "batch_size":null,"enqueue_secs":1.0,"enqueue_jobs_per_sec":1.0,"drain_secs":1.0,
                "drain_jobs_per_sec":{rate},"drain_cpu_us_per_job":null,
                "drain_calls":{{"claims":0,"claimed":0,"completes":0,"completed":0}},"latency":null,"peak_rss_bytes":null,"cpus":2}}"#
            );
            serde_json::from_str::<Report>(&json).unwrap()
        };
        let median = |rates: &[f64]| median_run(rates.iter().map(|&r| run(r)).collect()).map(|r| r.drain_jobs_per_sec);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.0));
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[]), None);
    }
}
