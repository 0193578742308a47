//! Settings: flags, then `JOBS_*` environment variables (both read by clap), then the TOML file
//! given with `--config`, then defaults.
//!
//! ```toml
//! database_url = "postgres://app@db.internal/app"
//! postgres_schema = "jobs"
//! redis_prefix = "myapp:"
//!
//! [work]
//! queues = ["critical", "default"]
//! concurrency = 10
//! health_addr = "127.0.0.1:9100"
//! metrics = true
//! shutdown_grace = "20s"
//! max_retries = 25
//! lease = "60s"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jobs_core::RetryPolicy;
use serde::Deserialize;

use crate::args::{Global, WorkArgs};
use crate::exit::Failure;
use crate::when::parse_duration;

/// The TOML file's contents; every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    database_url: Option<String>,
    postgres_schema: Option<String>,
    redis_prefix: Option<String>,
    #[serde(default)]
    work: WorkFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkFile {
    queues: Option<Vec<String>>,
    concurrency: Option<usize>,
    health_addr: Option<SocketAddr>,
    metrics: Option<bool>,
    shutdown_grace: Option<String>,
    max_retries: Option<u32>,
    lease: Option<String>,
    recurring: Option<PathBuf>,
}

/// Where the jobs are, once flags, variables and the file are merged.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    /// The database URL or SQLite path; never printed with its password.
    pub(crate) url: String,
    /// The PostgreSQL schema, if one was given.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) postgres_schema: Option<String>,
    /// The Redis key prefix, if one was given.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) redis_prefix: Option<String>,
}

/// `work`'s settings, once merged, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Work {
    pub(crate) queues: Vec<String>,
    /// Each queue's weight, when any was given (`critical:3`); `None` works them in strict order.
    pub(crate) weights: Option<Vec<u32>>,
    pub(crate) concurrency: usize,
    pub(crate) health_addr: Option<SocketAddr>,
    /// Whether the health endpoint serves `/metrics` too.
    pub(crate) metrics: bool,
    pub(crate) shutdown_grace: Duration,
    pub(crate) max_retries: u32,
    pub(crate) lease: Duration,
    /// The recurring tasks file, if any.
    pub(crate) recurring: Option<PathBuf>,
}

/// Every setting, merged.
#[derive(Debug)]
pub(crate) struct Settings {
    file: File,
    global_url: Option<String>,
    postgres_schema: Option<String>,
    redis_prefix: Option<String>,
}

impl Settings {
    /// Reads the config file if one was given, and keeps the global flags over it.
    pub(crate) fn load(global: &Global) -> Result<Settings, Failure> {
        let file = match &global.config {
            Some(path) => read(path)?,
            None => File::default(),
        };
        Ok(Settings {
            global_url: global.database_url.clone().filter(|u| !u.is_empty()),
            postgres_schema: global.postgres_schema.clone(),
            redis_prefix: global.redis_prefix.clone(),
            file,
        })
    }

    /// Where the jobs are; a usage error when no URL was given anywhere.
    pub(crate) fn connection(&self) -> Result<Connection, Failure> {
        let url = self.global_url.clone().or_else(|| self.file.database_url.clone()).ok_or_else(|| {
            Failure::Usage(
                "no database: pass --database-url (a SQLite file, postgres://… or redis://…), \
                 set JOBS_DATABASE_URL, or set database_url in the --config file"
                    .into(),
            )
        })?;
        Ok(Connection {
            url,
            postgres_schema: self.postgres_schema.clone().or_else(|| self.file.postgres_schema.clone()),
            redis_prefix: self.redis_prefix.clone().or_else(|| self.file.redis_prefix.clone()),
        })
    }

    /// `work`'s settings: flags and variables, then the file's `[work]` table, then defaults.
    pub(crate) fn work(&self, args: &WorkArgs) -> Result<Work, Failure> {
        let file = &self.file.work;
        let duration = |flag: Option<Duration>, file: &Option<String>, key: &str, default: u64| match (flag, file) {
            (Some(duration), _) => Ok(duration),
            (None, Some(text)) => parse_duration(text).map_err(|e| Failure::Usage(format!("work.{key}: {e}"))),
            (None, None) => Ok(Duration::from_secs(default)),
        };
        let grace = duration(args.shutdown_grace, &file.shutdown_grace, "shutdown_grace", 20)?;
        let lease = duration(args.lease, &file.lease, "lease", 60)?;
        let queues = if args.queues.is_empty() {
            file.queues.clone().unwrap_or_else(|| vec!["default".to_owned()])
        } else {
            args.queues.clone()
        };
        let queues: Vec<String> = queues.into_iter().map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()).collect();
        if queues.is_empty() {
            return Err(Failure::Usage("no queues to work on: name at least one with --queues".into()));
        }
        let (queues, weights) = weighed(queues)?;
        let concurrency = args.concurrency.or(file.concurrency).unwrap_or(10);
        if concurrency == 0 {
            return Err(Failure::Usage("--concurrency must be at least 1".into()));
        }
        let health_addr = args.health_addr.or(file.health_addr);
        let metrics = args.metrics || file.metrics.unwrap_or(false);
        if metrics && health_addr.is_none() {
            return Err(Failure::Usage(
                "--metrics serves /metrics on the health endpoint: give --health-addr too".into(),
            ));
        }
        Ok(Work {
            queues,
            weights,
            concurrency,
            health_addr,
            metrics,
            shutdown_grace: grace,
            max_retries: args.max_retries.or(file.max_retries).unwrap_or(RetryPolicy::default().max_retries()),
            lease,
            recurring: args.recurring.clone().or_else(|| file.recurring.clone()),
        })
    }
}

/// Splits `name:weight` entries, and reads Sidekiq's own form, `-q critical,3 -q default,1`
/// (which the comma splits into `critical`, `3`, `default`, `1`): a number after a queue's name
/// is that queue's weight. Once any queue has a weight, the others weigh 1.
fn weighed(entries: Vec<String>) -> Result<(Vec<String>, Option<Vec<u32>>), Failure> {
    let mut queues = Vec::with_capacity(entries.len());
    let mut weights = Vec::with_capacity(entries.len());
    for entry in sidekiq_pairs(entries)? {
        let (queue, weight) = match entry.rsplit_once(':') {
            Some((queue, weight)) => {
                let weight = weight.trim().parse::<u32>().ok().filter(|w| *w >= 1).ok_or_else(|| {
                    Failure::Usage(format!(
                        "queue `{entry}`: a weight is a whole number of at least 1, as in `critical:3,default:1`"
                    ))
                })?;
                (queue.trim().to_owned(), Some(weight))
            }
            None => (entry, None),
        };
        queues.push(queue);
        weights.push(weight);
    }
    let weights = weights.iter().any(Option::is_some).then(|| weights.iter().map(|w| w.unwrap_or(1)).collect());
    Ok((queues, weights))
}

/// Joins Sidekiq's `NAME,WEIGHT` pairs into `NAME:WEIGHT`: an entry of digits only is the
/// weight of the queue named just before it.
fn sidekiq_pairs(entries: Vec<String>) -> Result<Vec<String>, Failure> {
    let mut joined: Vec<String> = Vec::with_capacity(entries.len());
    let mut previous_is_name = false;
    for entry in entries {
        let is_weight = !entry.is_empty() && entry.chars().all(|c| c.is_ascii_digit());
        match joined.last_mut() {
            Some(queue) if is_weight && previous_is_name => {
                queue.push(':');
                queue.push_str(&entry);
                previous_is_name = false;
            }
            _ if is_weight => {
                return Err(Failure::Usage(format!(
                    "weight `{entry}` does not follow a queue name: write `-q critical,3 -q default,1` (Sidekiq's form) \
                     or `--queues critical:3,default:1`"
                )));
            }
            _ => {
                previous_is_name = !entry.contains(':');
                joined.push(entry);
            }
        }
    }
    Ok(joined)
}

fn read(path: &Path) -> Result<File, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read the config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Failure::Usage(format!("invalid config file {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn global(config: Option<&Path>) -> Global {
        Global {
            database_url: None,
            postgres_schema: None,
            redis_prefix: None,
            config: config.map(Path::to_owned),
            json: false,
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "database_url = \"file.db\"\npostgres_schema = \"from_file\"\n[work]\nqueues = [\"a\", \"b\"]\nshutdown_grace = \"1m\"\nmax_retries = 7"
        )
        .unwrap();
        let mut flags = global(Some(file.path()));
        flags.postgres_schema = Some("from_flag".into());
        let settings = Settings::load(&flags).unwrap();
        let connection = settings.connection().unwrap();
        assert_eq!(connection.url, "file.db");
        assert_eq!(connection.postgres_schema.as_deref(), Some("from_flag"));
        assert_eq!(connection.redis_prefix, None);

        let work = settings.work(&WorkArgs { concurrency: Some(3), ..WorkArgs::default() }).unwrap();
        assert_eq!(
            work,
            Work {
                queues: vec!["a".into(), "b".into()],
                weights: None,
                concurrency: 3,
                health_addr: None,
                metrics: false,
                shutdown_grace: Duration::from_secs(60),
                max_retries: 7,
                lease: Duration::from_secs(60),
                recurring: None,
            }
        );
        let work = settings.work(&WorkArgs { queues: vec!["c".into()], ..WorkArgs::default() }).unwrap();
        assert_eq!((work.queues, work.concurrency), (vec!["c".to_owned()], 10));
        let defaults = Settings::load(&global(None)).unwrap().work(&WorkArgs::default()).unwrap();
        assert_eq!((defaults.queues, defaults.concurrency, defaults.max_retries), (vec!["default".to_owned()], 10, 25));
        assert_eq!(defaults.shutdown_grace, Duration::from_secs(20), "leaves margin under Kubernetes' 30s");
    }

    #[test]
    fn metrics_are_served_on_the_health_endpoint_so_they_need_its_address() {
        let settings = Settings::load(&global(None)).unwrap();
        let error = settings.work(&WorkArgs { metrics: true, ..WorkArgs::default() }).unwrap_err();
        assert!(matches!(&error, Failure::Usage(why) if why.contains("--health-addr")), "{error:?}");
        let addr = Some("127.0.0.1:9100".parse().unwrap());
        let work = settings.work(&WorkArgs { metrics: true, health_addr: addr, ..WorkArgs::default() }).unwrap();
        assert!(work.metrics);
    }

    #[test]
    fn queues_with_weights_are_weighted_and_the_unweighted_weigh_one() {
        let settings = Settings::load(&global(None)).unwrap();
        let queues =
            |list: &[&str]| WorkArgs { queues: list.iter().map(|q| q.to_string()).collect(), ..WorkArgs::default() };
        let work = settings.work(&queues(&["critical:3", "default:1", "low"])).unwrap();
        assert_eq!(
            (work.queues, work.weights),
            (vec!["critical".into(), "default".into(), "low".into()], Some(vec![3, 1, 1]))
        );
        let work = settings.work(&queues(&["critical", "default"])).unwrap();
        assert_eq!(work.weights, None, "no weight given: strict order");
        for bad in ["critical:0", "critical:x", "critical:"] {
            let error = settings.work(&queues(&[bad])).unwrap_err();
            assert!(matches!(&error, Failure::Usage(m) if m.contains("at least 1")), "{bad}: {error}");
        }
    }

    #[test]
    fn sidekiqs_repeated_q_name_comma_weight_form_weighs_the_queues() {
        use clap::Parser;

        let settings = Settings::load(&global(None)).unwrap();
        let work = |line: &[&str]| {
            let args = crate::args::AppArgs::try_parse_from(line).unwrap();
            let crate::args::AppCommand::Work(work) = args.command else { panic!("not work: {line:?}") };
            settings.work(&work)
        };
        let weighed = work(&["app", "work", "-q", "critical,3", "-q", "default,1", "-q", "low"]).unwrap();
        assert_eq!(
            (weighed.queues, weighed.weights),
            (vec!["critical".into(), "default".into(), "low".into()], Some(vec![3, 1, 1]))
        );
        let mixed = work(&["app", "work", "-q", "critical,5", "--queues", "default:2,low"]).unwrap();
        assert_eq!(mixed.weights, Some(vec![5, 2, 1]));
        let strict = work(&["app", "work", "-q", "critical", "-q", "default"]).unwrap();
        assert_eq!((strict.queues.len(), strict.weights), (2, None), "no weight given: strict order");
        for bad in [
            &["app", "work", "-q", "3,critical"][..],
            &["app", "work", "-q", "critical:2,3"],
            &["app", "work", "-q", "critical,0"],
        ] {
            let error = work(bad).unwrap_err();
            assert!(
                matches!(&error, Failure::Usage(m) if m.contains("does not follow a queue name") || m.contains("at least 1")),
                "{bad:?}: {error}"
            );
        }
    }

    #[test]
    fn a_bad_file_or_no_url_is_a_usage_error_that_says_why() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "databse_url = \"typo.db\"").unwrap();
        let error = Settings::load(&global(Some(file.path()))).unwrap_err();
        assert!(matches!(&error, Failure::Usage(m) if m.contains("databse_url")), "{error}");

        let error = Settings::load(&global(None)).unwrap().connection().unwrap_err();
        assert!(matches!(&error, Failure::Usage(m) if m.contains("--database-url")), "{error}");

        let missing = Settings::load(&global(Some(Path::new("/nonexistent/jobs.toml")))).unwrap_err();
        assert!(matches!(&missing, Failure::Usage(m) if m.contains("/nonexistent/jobs.toml")), "{missing}");
    }
}
