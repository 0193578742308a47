//! `--suite`: the standard matrix over every adapter that is built in and reachable.
//!
//! Each run is a child process of this binary, so that its peak RSS and its threads are its own.

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
}

/// The standard matrix for one adapter: N jobs (20k for SQLite, 100k otherwise) at C = 10 and
/// 100, enqueued one by one and in bulk; pickup latency (L = 1000) in the one-by-one runs.
fn matrix(adapter: AdapterKind, jobs: Option<u64>) -> Vec<Cell> {
    let jobs = jobs.unwrap_or(match adapter {
        AdapterKind::Sqlite => 20_000,
        AdapterKind::Memory | AdapterKind::Postgres | AdapterKind::Redis => 100_000,
    });
    let mut cells = Vec::new();
    for concurrency in [10, 100] {
        for bulk in [false, true] {
            cells.push(Cell { adapter, jobs, concurrency, bulk, latency: if bulk { 0 } else { 1_000 } });
        }
    }
    cells
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
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = false;
    'adapters: for adapter in adapters {
        for cell in matrix(adapter, args.jobs) {
            let mut command = Command::new(&exe);
            command
                .args(["--adapter", adapter.name(), "--json"])
                .args(["--jobs", &cell.jobs.to_string()])
                .args(["--concurrency", &cell.concurrency.to_string()])
                .args(["--latency", &cell.latency.to_string()])
                .args(["--batch-size", &args.batch_size.to_string()])
                .args(["--stall-secs", &args.stall_secs.to_string()])
                .stdin(Stdio::null());
            if cell.bulk {
                command.arg("--bulk");
            }
            let run_started = Instant::now();
            let output = match command.output() {
                Ok(output) => output,
                Err(error) => {
                    eprintln!("error: cannot start {}: {error}", exe.display());
                    return ExitCode::FAILURE;
                }
            };
            let stderr = String::from_utf8_lossy(&output.stderr);
            if output.status.code() == Some(UNAVAILABLE) {
                let reason = stderr.trim().trim_start_matches("error: ").to_owned();
                eprintln!("skipping {}: {reason}", adapter.name());
                skipped.push(reason);
                continue 'adapters;
            }
            let parsed = String::from_utf8_lossy(&output.stdout).lines().find_map(|l| serde_json::from_str(l).ok());
            match parsed {
                Some(report) if output.status.success() => {
                    let report: Report = report;
                    eprintln!(
                        "{:<8} N={:<7} C={:<3} {:<6} done in {:.1} s",
                        adapter.name(),
                        cell.jobs,
                        cell.concurrency,
                        report.enqueue_mode,
                        run_started.elapsed().as_secs_f64()
                    );
                    if args.json {
                        println!("{}", report.to_json());
                    }
                    reports.push(report);
                }
                _ => {
                    failed = true;
                    eprintln!("run failed: {cell:?} ({}): {}", output.status, stderr.trim());
                }
            }
        }
    }
    if !args.json {
        print!("{}", report::table(&reports));
        let mut versions: Vec<(&str, &str)> =
            reports.iter().map(|r| (r.adapter.name(), r.adapter_version.as_str())).collect();
        versions.dedup();
        for (adapter, version) in versions {
            println!("{adapter}: {version}");
        }
        for reason in &skipped {
            println!("skipped: {reason}");
        }
    }
    eprintln!("suite finished in {:.1} s", started.elapsed().as_secs_f64());
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_matrix() {
        let cells = matrix(AdapterKind::Postgres, None);
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|c| c.jobs == 100_000));
        assert_eq!(cells.iter().filter(|c| c.concurrency == 100).count(), 2);
        assert!(cells.iter().all(|c| (c.latency == 1_000) != c.bulk));
        assert!(matrix(AdapterKind::Sqlite, None).iter().all(|c| c.jobs == 20_000));
        assert!(matrix(AdapterKind::Memory, Some(500)).iter().all(|c| c.jobs == 500));
    }
}
