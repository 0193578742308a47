//! The command line: global options, the operations commands, and `work`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use jobs_core::{JobFilter, JobState};

use crate::exit::Failure;
use crate::when::{parse_duration, parse_moment};

const EXIT_STATUSES: &str = "\
Exit status:
  0  done
  1  failed: the backend could not be reached or answered an error, a check failed
  2  usage: unknown command or flag, invalid value, no database URL
  3  not found: no job or process with that id, or an action matched no job
  4  not supported: the backend cannot do this";

const NO_WORK: &str = "\
There is no `work` command here: this binary has no jobs compiled in, so it could not run any.
Workers run in your application's own binary: call `jobs::cli::run().await` from its `main`
(feature `cli` of the `jobs` crate) to get `myapp work --queues a,b --concurrency 10` along with
every command above.";

/// The command line of an application's binary: `work` and every operations command.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Run workers for this application's jobs, and look into and steer the jobs stored in SQLite, PostgreSQL or Redis",
    after_long_help = EXIT_STATUSES
)]
pub(crate) struct AppArgs {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: AppCommand,
}

/// The commands of an application's binary.
#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Run a worker: claim jobs from the queues and perform them until SIGTERM or SIGINT
    /// (SIGTSTP: go quiet, claiming no more while it finishes what it holds)
    Work(WorkArgs),
    #[command(flatten)]
    Operation(Operation),
}

/// The command line of the standalone `jobs` binary: the operations commands, no `work`.
#[derive(Debug, Parser)]
#[command(
    name = "jobs",
    version,
    about = "Look into and steer the jobs stored in SQLite, PostgreSQL or Redis",
    after_help = NO_WORK,
    after_long_help = format!("{NO_WORK}\n\n{EXIT_STATUSES}")
)]
pub(crate) struct ToolArgs {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: ToolCommand,
}

/// The commands of the standalone binary.
#[derive(Debug, Subcommand)]
pub(crate) enum ToolCommand {
    #[command(flatten)]
    Operation(Operation),
    /// Not here: workers run in the application's binary (see `jobs::cli::run`)
    #[command(hide = true)]
    Work {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Options every command takes: where the jobs are, and how to print.
#[derive(Debug, Args)]
#[command(next_help_heading = "Backend")]
pub(crate) struct Global {
    /// Where the jobs are: a SQLite file (a path, or sqlite:PATH), postgres://… or redis://…
    #[arg(long, env = "JOBS_DATABASE_URL", hide_env_values = true, global = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// The PostgreSQL schema that holds the jobs [default: jobs]
    #[arg(long, env = "JOBS_POSTGRES_SCHEMA", global = true, value_name = "SCHEMA")]
    pub(crate) postgres_schema: Option<String>,
    /// The prefix of every Redis key [default: none, as Sidekiq]
    #[arg(long, env = "JOBS_REDIS_PREFIX", global = true, value_name = "PREFIX")]
    pub(crate) redis_prefix: Option<String>,
    /// A TOML file of settings; flags and JOBS_* variables win over it
    #[arg(long, short = 'c', env = "JOBS_CONFIG", global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Print JSON for scripts instead of text
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The operations commands: the same in the standalone binary and in an application's.
#[derive(Debug, Subcommand)]
pub(crate) enum Operation {
    /// Create the jobs schema or bring it up to date (SQLite, PostgreSQL)
    Migrate {
        /// Print the SQL instead of running it, for your own migration tool (PostgreSQL)
        #[arg(long)]
        print_sql: bool,
        /// With --print-sql: the schema version the database is at now (0: none yet)
        #[arg(long, default_value_t = 0, requires = "print_sql", value_name = "VERSION")]
        from: i64,
    },
    /// Check the backend: reachable, schema up to date, settings safe for jobs
    Check,
    /// Recurring tasks: schedule, next and last run, last job; `recurring run KEY` enqueues one now
    Recurring {
        #[command(subcommand)]
        action: Option<RecurringAction>,
    },
    /// Queues with their jobs per state, latency and pause, and the worker processes
    Stats,
    /// List jobs, oldest first, filtered
    List(ListArgs),
    /// Show one job with its arguments and errors
    Show {
        /// Its id: the backend's (provider) id, or the Active Job job id
        job_id: String,
    },
    /// Run dead jobs again (dead → ready)
    Retry(ActionArgs),
    /// Discard scheduled, ready, retrying or blocked jobs: to the dead set, with an error saying so
    Discard(ActionArgs),
    /// Run scheduled, retrying or blocked jobs now (→ ready)
    RunNow(ActionArgs),
    /// Delete jobs in any state but running
    Delete(ActionArgs),
    /// Delete completed jobs that finished before a time
    Purge {
        /// A duration ago (`7d`, `12h`) or an RFC 3339 time
        #[arg(long, value_name = "WHEN")]
        completed_before: String,
    },
    /// Stop workers from claiming the jobs of a queue (it still accepts jobs)
    Pause {
        /// The queue
        queue: String,
    },
    /// Let workers claim the jobs of a paused queue again
    Resume {
        /// The queue
        queue: String,
    },
    /// The live worker processes
    Processes,
    /// Ask a worker process to stop claiming jobs (it finishes those it holds)
    Quiet {
        /// Its id, as `processes` shows it
        process_id: String,
    },
    /// Ask a worker process to shut down gracefully
    Stop {
        /// Its id, as `processes` shows it
        process_id: String,
    },
    /// Serve the dashboard (queues, jobs, errors, workers) until SIGTERM or SIGINT
    Web(WebArgs),
}

/// `web`'s options: where to serve, and who may use it.
#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// The address to serve on
    #[arg(long, env = "JOBS_WEB_ADDR", default_value = "127.0.0.1:9292", value_name = "HOST:PORT")]
    pub(crate) addr: SocketAddr,
    /// Let only these HTTP basic credentials in (use it over HTTPS, e.g. behind a proxy)
    #[arg(
        long,
        env = "JOBS_WEB_BASIC_AUTH",
        hide_env_values = true,
        value_name = "USER:PASSWORD",
        conflicts_with = "open"
    )]
    pub(crate) basic_auth: Option<String>,
    /// Let everyone in, with no authentication (a loopback address, or behind your own proxy)
    #[arg(long)]
    pub(crate) open: bool,
    /// Only look: no retry, discard, pause or any other action
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Show no job's arguments (this binary does not know which classes declare
    /// `log_arguments = false`; an application's own binary does)
    #[arg(long)]
    pub(crate) hide_arguments: bool,
}

/// Which jobs: shared by `list` and the actions.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Filter")]
pub(crate) struct FilterArgs {
    /// Only jobs in this state: scheduled, ready, blocked, running, retrying, dead or completed
    #[arg(long, value_parser = parse_state)]
    pub(crate) state: Option<JobState>,
    /// Only jobs on this queue
    #[arg(long)]
    pub(crate) queue: Option<String>,
    /// Only jobs of this job class
    #[arg(long)]
    pub(crate) class: Option<String>,
    /// Only jobs whose payload contains this text (e.g. an argument), case-sensitive
    #[arg(long)]
    pub(crate) text: Option<String>,
    /// Only jobs enqueued at or after this time: a duration ago (`1h`) or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub(crate) enqueued_after: Option<String>,
    /// Only jobs enqueued before this time: a duration ago (`1h`) or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub(crate) enqueued_before: Option<String>,
}

impl FilterArgs {
    /// Whether no filter was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.queue.is_none()
            && self.class.is_none()
            && self.text.is_none()
            && self.enqueued_after.is_none()
            && self.enqueued_before.is_none()
    }

    /// The filter, with times relative to `now`.
    pub(crate) fn to_filter(&self, now: DateTime<Utc>) -> Result<JobFilter, Failure> {
        let moment = |text: &Option<String>| text.as_deref().map(|t| parse_moment(t, now)).transpose();
        let after = moment(&self.enqueued_after).map_err(Failure::Usage)?;
        let before = moment(&self.enqueued_before).map_err(Failure::Usage)?;
        let mut filter = JobFilter::new().enqueued(after, before);
        filter.state = self.state;
        filter.queue = self.queue.clone();
        filter.class = self.class.clone();
        filter.text = self.text.clone();
        Ok(filter)
    }
}

/// `list`'s options.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) filter: FilterArgs,
    /// At most this many jobs
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: usize,
    /// The page after this cursor (printed at the end of the previous page)
    #[arg(long, value_name = "CURSOR")]
    pub(crate) after: Option<String>,
    /// Newest first
    #[arg(long)]
    pub(crate) newest_first: bool,
}

/// The jobs an action applies to: ids, or a filter.
#[derive(Debug, Args)]
pub(crate) struct ActionArgs {
    /// Jobs by id: the backend's (provider) id or the Active Job job id
    #[arg(value_name = "JOB_ID")]
    pub(crate) ids: Vec<String>,
    #[command(flatten)]
    pub(crate) filter: FilterArgs,
    /// Every dead job (the same as --state dead)
    #[arg(long, help_heading = "Filter")]
    pub(crate) all_dead: bool,
    /// Every job the action applies to
    #[arg(long, help_heading = "Filter")]
    pub(crate) all: bool,
}

/// What `recurring` does besides listing the tasks.
#[derive(Debug, Subcommand)]
pub(crate) enum RecurringAction {
    /// Enqueue the task's job now, outside its schedule
    Run {
        /// The task's key
        key: String,
    },
    /// Pause the task: it enqueues nothing until resumed
    Pause {
        /// The task's key
        key: String,
    },
    /// Resume the task from its next tick
    Resume {
        /// The task's key
        key: String,
    },
}

/// `work`'s options; each also comes from `JOBS_*` or the `[work]` table of the config file.
#[derive(Debug, Default, Args)]
pub(crate) struct WorkArgs {
    /// Queues to take jobs from, in order of precedence, comma-separated or repeated (`*`: every
    /// queue); with weights, `-q critical,3 -q default,1` (Sidekiq's form: a number after a
    /// queue's name is its weight) or `critical:3,default:1`, each claim tries them in a
    /// weighted random order instead [default: default]
    #[arg(long, short = 'q', env = "JOBS_QUEUES", value_delimiter = ',', value_name = "QUEUE[,WEIGHT]")]
    pub(crate) queues: Vec<String>,
    /// How many jobs to run at once [default: 10]
    #[arg(long, env = "JOBS_CONCURRENCY", value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Serve /healthz (alive) and /readyz (the backend answers) on this address, for probes
    #[arg(long, env = "JOBS_HEALTH_ADDR", value_name = "HOST:PORT")]
    pub(crate) health_addr: Option<SocketAddr>,
    /// Also serve /metrics (Prometheus) on the health endpoint: jobs' counters, histograms and
    /// the queue gauges this worker samples from the store
    #[arg(long, env = "JOBS_METRICS")]
    pub(crate) metrics: bool,
    /// On SIGTERM, how long running jobs may take to finish before they are asked to stop
    /// (plus 5s for them to stop, within Kubernetes' 30s termination grace) [default: 20s]
    #[arg(long, env = "JOBS_SHUTDOWN_GRACE", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) shutdown_grace: Option<Duration>,
    /// How many times a failed job is retried (with Sidekiq's backoff) before it goes to the
    /// dead set, when its own `retry_on` does not handle the error [default: 25]
    #[arg(long, env = "JOBS_MAX_RETRIES", value_name = "N")]
    pub(crate) max_retries: Option<u32>,
    /// How long a claimed job stays the worker's without a heartbeat; heartbeats (which also
    /// carry `quiet`/`stop` from an operator) come every third of it [default: 60s]
    #[arg(long, env = "JOBS_LEASE", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) lease: Option<Duration>,
    /// Recurring tasks to schedule, in Solid Queue's recurring.yml shape as TOML; the tasks of
    /// an earlier file that are no longer in it are removed at start
    #[arg(long, env = "JOBS_RECURRING", value_name = "FILE")]
    pub(crate) recurring: Option<PathBuf>,
}

fn parse_state(text: &str) -> Result<JobState, String> {
    text.parse().map_err(|_| {
        let names: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown job state `{text}`: use one of {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn both_command_lines_are_well_formed() {
        AppArgs::command().debug_assert();
        ToolArgs::command().debug_assert();
    }

    #[test]
    fn states_are_named_as_the_operations_api_names_them() {
        assert_eq!(parse_state("dead"), Ok(JobState::Dead));
        assert!(
            parse_state("lost").unwrap_err().contains("scheduled, ready, blocked, running, retrying, dead, completed")
        );
    }
}
