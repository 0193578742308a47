//! [`Cli`]: parse the command line, open the backend, run the command, say how it went.

use std::ffi::OsString;
use std::future::Future;
use std::path::Path;

use clap::{CommandFactory, FromArgMatches};
use jobs_core::RuntimeBuilder;
use tracing_subscriber::EnvFilter;

use crate::args::{AppArgs, AppCommand, Global, Operation, ToolArgs, ToolCommand, WorkArgs};
use crate::commands::work::{Configure, Shutdown};
use crate::commands::{operate, work};
use crate::config::Settings;
use crate::database::{self, Open};
use crate::exit::{Exit, Failure};
use crate::output::Output;

/// Runs the command line of an application's binary: `work` plus every operations command,
/// from the process's arguments. Call it from `main` and return what it returns:
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> jobs_cli::Exit {
///     jobs_cli::run().await
/// }
/// ```
///
/// The same as `Cli::new().run().await`; see [`Cli`] to give the jobs application state.
pub async fn run() -> Exit {
    Cli::new().run().await
}

/// The command line, configured: which commands, the program's name, and what the application
/// adds to the runtime its worker uses.
///
/// ```no_run
/// use std::sync::Arc;
///
/// struct Mailer; // an SMTP client, a database pool, ... that jobs take as `State<Mailer>`
///
/// #[tokio::main]
/// async fn main() -> jobs_cli::Exit {
///     let mailer = Arc::new(Mailer);
///     jobs_cli::Cli::new()
///         .name("myapp")
///         .version(env!("CARGO_PKG_VERSION"))
///         .configure(move |runtime| runtime.shared_state(mailer))
///         .run()
///         .await
/// }
/// ```
///
/// # Settings
///
/// Each setting comes from its flag, else its environment variable, else the TOML file named by
/// `--config` (or `JOBS_CONFIG`), else its default:
///
/// | flag | variable | file | default |
/// |---|---|---|---|
/// | `--database-url` | `JOBS_DATABASE_URL` | `database_url` | (required) |
/// | `--postgres-schema` | `JOBS_POSTGRES_SCHEMA` | `postgres_schema` | `jobs` |
/// | `--redis-prefix` | `JOBS_REDIS_PREFIX` | `redis_prefix` | none |
/// | `work --queues a,b` or `a:3,b:1` | `JOBS_QUEUES` | `[work] queues = ["a", "b:2"]` | `default` |
/// | `work --concurrency N` | `JOBS_CONCURRENCY` | `[work] concurrency` | 10 |
/// | `work --health-addr A` | `JOBS_HEALTH_ADDR` | `[work] health_addr` | none |
/// | `work --metrics` | `JOBS_METRICS` | `[work] metrics` | off |
/// | `work --shutdown-grace D` | `JOBS_SHUTDOWN_GRACE` | `[work] shutdown_grace = "20s"` | 20 s |
/// | `work --max-retries N` | `JOBS_MAX_RETRIES` | `[work] max_retries` | 25 |
/// | `work --lease D` | `JOBS_LEASE` | `[work] lease = "60s"` | 60 s |
///
/// # Signals
///
/// `work` shuts down gracefully on SIGTERM or SIGINT: it stops claiming, lets running jobs
/// finish within the shutdown grace, then asks them to stop and hands back what still runs. On
/// SIGTSTP it goes quiet, as Sidekiq does: it claims no more jobs and finishes those it holds,
/// until SIGTERM (so Ctrl-Z does not suspend it). `quiet` and `stop` from an operator (the
/// `quiet`/`stop` commands, or Sidekiq Web on Redis) reach it at its next heartbeat, every third
/// of the lease.
pub struct Cli {
    work: bool,
    name: Option<String>,
    version: Option<String>,
    configure: Option<Configure>,
    shutdown: Option<Shutdown>,
}

impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("work", &self.work)
            .field("name", &self.name)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    /// The command line of an application's binary: `work` and every operations command.
    pub fn new() -> Cli {
        Cli { work: true, name: None, version: None, configure: None, shutdown: None }
    }

    /// The command line of the standalone `jobs` binary: the operations commands only, since it
    /// has no jobs compiled in to work on; its help says where `work` is.
    pub fn standalone() -> Cli {
        Cli { work: false, ..Cli::new() }
    }

    /// The program's name in help and `--version` (default: the executable's file name).
    pub fn name(mut self, name: impl Into<String>) -> Cli {
        self.name = Some(name.into());
        self
    }

    /// The version `--version` prints (default: this crate's, as `(jobs 0.1.0)`).
    pub fn version(mut self, version: impl Into<String>) -> Cli {
        self.version = Some(version.into());
        self
    }

    /// Adds the application's state, middleware and subscribers to the runtime that `work` uses.
    /// The adapter is the one the command line names; one set here is replaced.
    pub fn configure(mut self, configure: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder + Send + 'static) -> Cli {
        self.configure = Some(Box::new(configure));
        self
    }

    /// `work` also shuts down gracefully when `shutdown` completes, as on SIGTERM: for programs
    /// that decide themselves when their worker stops.
    pub fn shutdown_on(mut self, shutdown: impl Future<Output = ()> + Send + 'static) -> Cli {
        self.shutdown = Some(Box::pin(shutdown));
        self
    }

    /// Runs the command the process's arguments name.
    pub async fn run(self) -> Exit {
        self.run_with(std::env::args_os()).await
    }

    /// Runs the command `args` name; the first is the program's path, as in
    /// [`std::env::args_os`].
    ///
    /// Errors go to stderr and decide the returned [`Exit`]; help and `--version` go to stdout
    /// and return [`Exit::Ok`].
    pub async fn run_with<I, T>(self, args: I) -> Exit
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let (global, command) = match self.parse(&args) {
            Ok(parsed) => parsed,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() { Exit::Usage } else { Exit::Ok };
            }
        };
        init_logging(matches!(command, Command::Work(_)));
        match self.dispatch(global, command).await {
            Ok(()) => Exit::Ok,
            Err(failure) => {
                eprintln!("error: {failure}");
                failure.exit()
            }
        }
    }

    fn parse(&self, args: &[OsString]) -> Result<(Global, Command), clap::Error> {
        let program = args.first().and_then(|a| Path::new(a).file_stem()).map(|s| s.to_string_lossy().into_owned());
        if self.work {
            let name = self.name.clone().or(program).unwrap_or_else(|| "app".to_owned());
            let version = self.version.clone().unwrap_or_else(|| format!("(jobs {})", env!("CARGO_PKG_VERSION")));
            let matches = AppArgs::command().name(name).version(version).try_get_matches_from(args)?;
            let parsed = AppArgs::from_arg_matches(&matches)?;
            let command = match parsed.command {
                AppCommand::Work(args) => Command::Work(args),
                AppCommand::Operation(operation) => Command::Operation(operation),
            };
            Ok((parsed.global, command))
        } else {
            let mut clap = ToolArgs::command();
            if let Some(name) = &self.name {
                clap = clap.name(name.clone());
            }
            if let Some(version) = &self.version {
                clap = clap.version(version.clone());
            }
            let parsed = ToolArgs::from_arg_matches(&clap.try_get_matches_from(args)?)?;
            let command = match parsed.command {
                ToolCommand::Operation(operation) => Command::Operation(operation),
                ToolCommand::Work { .. } => Command::NoWork,
            };
            Ok((parsed.global, command))
        }
    }

    async fn dispatch(self, global: Global, command: Command) -> Result<(), Failure> {
        let out = Output { json: global.json };
        let settings = Settings::load(&global)?;
        match command {
            Command::Operation(operation) => operate(operation, &settings, out).await,
            Command::Work(args) => {
                let work_settings = settings.work(&args)?;
                let store = database::open(&settings.connection()?, Open::Create).await?;
                work::work(&work_settings, store, self.configure, self.shutdown).await
            }
            Command::NoWork => Err(Failure::Usage(
                "`work` runs in your application's own binary, which has its jobs compiled in: call \
                 `jobs::cli::run().await` from its `main` (feature `cli` of the jobs crate), then run \
                 `myapp work --queues default --concurrency 10`"
                    .into(),
            )),
        }
    }
}

/// A parsed command, whichever command line it came from.
enum Command {
    Work(WorkArgs),
    Operation(Operation),
    /// `work`, asked of the standalone binary.
    NoWork,
}

/// Logs to stderr, as `RUST_LOG` says (default: `info` for `work`, warnings otherwise); leaves
/// a subscriber the application installed alone.
fn init_logging(working: bool) {
    let default = if working { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
