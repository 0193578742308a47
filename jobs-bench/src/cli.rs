//! The command line.

use clap::{Parser, ValueEnum};
use serde::{Deserialize, Serialize};

/// Jobs enqueued and drained by a single run unless `--jobs` says otherwise.
const DEFAULT_JOBS: u64 = 10_000;
/// Worker concurrency of a single run unless `--concurrency` says otherwise.
const DEFAULT_CONCURRENCY: usize = 10;
/// Pickup-latency samples of a single run unless `--latency` says otherwise.
const DEFAULT_LATENCY: u64 = 1_000;

/// Measures an adapter of `jobs`: burn-down (enqueue, then drain), pickup latency, peak RSS.
#[derive(Debug, Parser)]
#[command(name = "jobs-bench", version, about)]
pub(crate) struct Args {
    /// The backend to measure (with --suite: only this one).
    #[arg(long, value_enum)]
    pub(crate) adapter: Option<AdapterKind>,

    /// How many no-op jobs to enqueue and drain [default: 10000; with --suite: the standard
    /// matrix's].
    #[arg(long = "jobs", short = 'n')]
    pub(crate) jobs: Option<u64>,

    /// How many jobs the worker runs at once.
    #[arg(long, short = 'c', default_value_t = DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,

    /// Jobs the worker claims ahead of free slots (`Worker::builder().prefetch(..)`); without it,
    /// the worker's adaptive default.
    #[arg(long)]
    pub(crate) prefetch: Option<usize>,

    /// Enqueue with `perform_all_later` in batches instead of one `perform_later` per job.
    #[arg(long)]
    pub(crate) bulk: bool,

    /// Jobs per `perform_all_later` call with --bulk.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) batch_size: u64,

    /// With --bulk: this many tasks enqueue at once, each its share of the batches, as an
    /// application enqueuing from several requests or threads does.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) enqueuers: u64,

    /// Pickup-latency samples: sequential enqueues on an idle worker (0 skips the measurement).
    #[arg(long = "latency", short = 'l', default_value_t = DEFAULT_LATENCY)]
    pub(crate) latency: u64,

    /// Future jobs (due in a day, on the drained queue) stored before the run and left in place:
    /// what a backlog of scheduled jobs costs the claims. With --suite: adds the C = 10 runs
    /// with this backlog to each adapter's matrix.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) backlog_scheduled: u64,

    /// Leave the backlog as the fill wrote it. By default a store that has maintenance of its own
    /// gets it once the backlog is stored (PostgreSQL: `VACUUM (ANALYZE)` of the jobs table), as
    /// a store that gathered its scheduled jobs over hours has had it; a fresh backlog measures
    /// the first vacuum's cost too (it reads every page of the backlog).
    #[arg(long)]
    pub(crate) backlog_fresh: bool,

    /// Print one JSON object per run instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Run the standard matrix over every adapter that is built in and reachable.
    #[arg(long)]
    pub(crate) suite: bool,

    /// With --suite: run each cell this many times and keep the run with the median drain rate.
    #[arg(long, default_value_t = 1)]
    pub(crate) repeat: u32,

    /// Give up on a drain or a latency sample after this many seconds without progress.
    #[arg(long, default_value_t = 30)]
    pub(crate) stall_secs: u64,

    /// Put every drained job under a concurrency limit (`limits_concurrency(to = 2)`), its key one
    /// of N (job i has key i mod N): N at least the number of jobs measures what taking and
    /// releasing a slot costs; a small N measures blocking as well.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit_keys: Option<u64>,

    /// Each drained job spins this many microseconds of CPU before it counts itself (0: a no-op
    /// job), to see how a drain scales with runtime threads once jobs do some work.
    #[arg(long, value_name = "MICROS", default_value_t = 0)]
    pub(crate) job_cpu_us: u64,

    /// Record jobs' spans with OpenTelemetry (the `otel` feature's layer, spans discarded by the
    /// exporter) and carry trace context in payloads, to measure what tracing costs.
    #[arg(long)]
    pub(crate) otel: bool,

    /// Profile only the drain: write `enable` and `disable` to this perf control FIFO around it
    /// (`perf record -D -1 --control fifo:FIFO -- jobs-bench ...`; see BENCHMARKS.md).
    #[arg(long, value_name = "FIFO")]
    pub(crate) perf_ctl: Option<std::path::PathBuf>,
}

/// A backend `jobs-bench` can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AdapterKind {
    /// `jobs::adapters::MemoryAdapter`, in this process.
    Memory,
    /// `jobs-sqlite`, a file in a temporary directory.
    Sqlite,
    /// `jobs-postgres`, the server at `JOBS_BENCH_POSTGRES_URL`.
    Postgres,
    /// `jobs-redis`, the server at `JOBS_BENCH_REDIS_URL`.
    Redis,
}

impl AdapterKind {
    /// Every backend, in the order the suite measures them.
    pub(crate) const ALL: [AdapterKind; 4] =
        [AdapterKind::Memory, AdapterKind::Sqlite, AdapterKind::Postgres, AdapterKind::Redis];

    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AdapterKind::Memory => "memory",
            AdapterKind::Sqlite => "sqlite",
            AdapterKind::Postgres => "postgres",
            AdapterKind::Redis => "redis",
        }
    }
}

/// What one run does, resolved from the command line.
#[derive(Clone, Debug)]
pub(crate) struct RunSettings {
    /// Jobs to enqueue and drain.
    pub(crate) jobs: u64,
    /// Worker concurrency.
    pub(crate) concurrency: usize,
    /// Jobs claimed ahead of free slots; `None`: the worker's adaptive default.
    pub(crate) prefetch: Option<usize>,
    /// `Some(batch size)` to enqueue in bulk, `None` for one by one.
    pub(crate) bulk: Option<u64>,
    /// Tasks enqueueing batches at once, with `bulk`.
    pub(crate) enqueuers: u64,
    /// Pickup-latency samples (0: none).
    pub(crate) latency_samples: u64,
    /// Future jobs stored before the run and never drained.
    pub(crate) backlog_scheduled: u64,
    /// Whether the backlog is left without the store's maintenance (`--backlog-fresh`).
    pub(crate) backlog_fresh: bool,
    /// How long without progress counts as a stall.
    pub(crate) stall: std::time::Duration,
    /// A perf control FIFO to switch profiling on for the drain only.
    pub(crate) perf_ctl: Option<std::path::PathBuf>,
    /// Whether the runtime carries trace context (with `--otel`).
    pub(crate) otel: bool,
    /// `Some(N)`: every drained job is limited to 2 at once per key, over N keys.
    pub(crate) limit_keys: Option<u64>,
    /// The CPU each drained job spins (zero: a no-op job).
    pub(crate) job_cpu: std::time::Duration,
}

impl RunSettings {
    /// The worker of a run: the default queue, its concurrency and claim-ahead.
    pub(crate) fn worker(&self, runtime: &jobs::Runtime) -> jobs::WorkerBuilder {
        let builder = jobs::Worker::builder().runtime(runtime).queues(["default"]).concurrency(self.concurrency);
        match self.prefetch {
            Some(prefetch) => builder.prefetch(prefetch),
            None => builder,
        }
    }
}

impl Args {
    /// The settings of a single run.
    pub(crate) fn run_settings(&self) -> RunSettings {
        RunSettings {
            jobs: self.jobs.unwrap_or(DEFAULT_JOBS),
            concurrency: self.concurrency.max(1),
            prefetch: self.prefetch,
            bulk: self.bulk.then_some(self.batch_size),
            enqueuers: self.enqueuers,
            latency_samples: self.latency,
            backlog_scheduled: self.backlog_scheduled,
            backlog_fresh: self.backlog_fresh,
            stall: std::time::Duration::from_secs(self.stall_secs.max(1)),
            perf_ctl: self.perf_ctl.clone(),
            otel: self.otel,
            limit_keys: self.limit_keys,
            job_cpu: std::time::Duration::from_micros(self.job_cpu_us),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_reads_as_documented() {
        let args = Args::parse_from([
            "jobs-bench",
            "--adapter",
            "memory",
            "--jobs",
            "500",
            "--concurrency",
            "100",
            "--bulk",
            "--enqueuers",
            "2",
            "--latency",
            "0",
            "--backlog-scheduled",
            "1000000",
            "--backlog-fresh",
            "--json",
        ]);
        let settings = args.run_settings();
        assert_eq!(args.adapter, Some(AdapterKind::Memory));
        assert_eq!((settings.jobs, settings.concurrency, settings.bulk), (500, 100, Some(1_000)));
        assert_eq!((settings.enqueuers, settings.latency_samples), (2, 0));
        assert_eq!(settings.backlog_scheduled, 1_000_000);
        assert!(settings.backlog_fresh && args.json && !args.suite);
    }

    #[test]
    fn defaults_make_a_short_run() {
        let settings = Args::parse_from(["jobs-bench", "--adapter", "sqlite"]).run_settings();
        assert_eq!((settings.jobs, settings.concurrency, settings.bulk), (10_000, 10, None));
        assert_eq!((settings.backlog_scheduled, settings.enqueuers), (0, 1));
        assert!(!settings.backlog_fresh, "a backlog is vacuumed once stored unless asked not to");
    }
}
