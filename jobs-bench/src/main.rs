//! `jobs-bench`: the measuring stick for every performance claim of `jobs`.
//!
//! For one adapter it measures, the way the field measures itself:
//!
//! * burn-down: enqueue N no-op jobs (one by one, or in bulk with `--bulk`), then drain them with
//!   one worker at concurrency C, counting completions in-process; jobs/s for each phase;
//! * pickup latency: L sequential enqueues on an idle worker; enqueue→start p50, p99 and max;
//! * both with a backlog of future jobs in the store, with `--backlog-scheduled N` (vacuumed once
//!   stored, on PostgreSQL, unless `--backlog-fresh`);
//! * the peak resident set size of the process.
//!
//! ```text
//! cargo run --release -p jobs-bench -- --adapter memory --jobs 100000 --concurrency 10 [--bulk] [--latency 1000] [--json]
//! cargo run --release -p jobs-bench -- --suite
//! ```
//!
//! See `BENCHMARKS.md` at the root of the workspace for what each number means.

mod backlog;
mod burn_down;
mod cli;
mod counting;
mod latency;
mod otel;
mod report;
mod stats;
mod suite;
mod target;
mod targets;
mod workload;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Args;
use crate::report::Report;
use crate::target::Unavailable;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.suite {
        return suite::run(&args);
    }
    let Some(adapter) = args.adapter else {
        eprintln!("error: pass --adapter memory|sqlite|postgres|redis, or --suite");
        return ExitCode::from(2);
    };
    if args.otel
        && let Err(error) = otel::install()
    {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_one(adapter, &args)) {
        Ok(report) => {
            if args.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report::table(std::slice::from_ref(&report)));
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Unavailable(unavailable)) => {
            eprintln!("error: {unavailable}");
            ExitCode::from(3)
        }
        Err(RunError::Failed(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Why a run produced no report.
#[derive(Debug)]
enum RunError {
    /// The adapter is not built in, not yet written, or its server is not reachable.
    Unavailable(Unavailable),
    /// The adapter was there, but the run failed.
    Failed(String),
}

impl From<Unavailable> for RunError {
    fn from(unavailable: Unavailable) -> Self {
        RunError::Unavailable(unavailable)
    }
}

impl From<jobs::Error> for RunError {
    fn from(error: jobs::Error) -> Self {
        RunError::Failed(error.to_string())
    }
}

/// One run: burn-down on a fresh store, then pickup latency on another fresh store.
async fn run_one(adapter: cli::AdapterKind, args: &Args) -> Result<Report, RunError> {
    let settings = args.run_settings();
    stats::reset_peak_rss();

    let target = target::open(adapter).await?;
    let version = target.version.clone();
    let burn_down = fill_then(&target, &settings, burn_down::run(&target, &settings)).await;
    target.close().await;
    let burn_down = burn_down?;

    let latency = if settings.latency_samples > 0 {
        let target = target::open(adapter).await?;
        let latency = fill_then(&target, &settings, latency::run(&target, &settings)).await;
        target.close().await;
        Some(latency?)
    } else {
        None
    };

    Ok(Report::new(adapter, version, &settings, burn_down, latency, stats::peak_rss_bytes()))
}

/// Stores the run's backlog of future jobs on `target` (see `--backlog-scheduled`), then runs `run`.
async fn fill_then<T>(
    target: &target::Target,
    settings: &cli::RunSettings,
    run: impl std::future::Future<Output = Result<T, RunError>>,
) -> Result<T, RunError> {
    if settings.backlog_scheduled > 0 {
        let took = backlog::fill(target, settings.backlog_scheduled).await?;
        eprintln!("stored {} scheduled jobs in {:.1} s", settings.backlog_scheduled, took.as_secs_f64());
        if let Some(settle) = target.settle.as_ref().filter(|_| !settings.backlog_fresh) {
            let started = std::time::Instant::now();
            settle().await.map_err(RunError::Failed)?;
            eprintln!("vacuumed the backlog in {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    run.await
}
