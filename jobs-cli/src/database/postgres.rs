//! PostgreSQL: a schema of its own, migrated by `migrate` (or by workers at start-up), checked
//! by every other command.

use std::sync::Arc;

use jobs_core::Error;
use jobs_core::adapter::redact;
use jobs_postgres::{PostgresAdapter, PostgresBuilder, PostgresError, SCHEMA_VERSION, migration_sql};

use super::{Finding, Open, Store};
use crate::exit::Failure;

/// The schema the adapter uses when none is given.
const DEFAULT_SCHEMA: &str = "jobs";

fn builder(url: &str, schema: &str) -> PostgresBuilder {
    PostgresAdapter::builder().url(url).schema(schema).application_name("jobs-cli").max_connections(4)
}

pub(super) async fn open(url: &str, schema: Option<&str>, mode: Open) -> Result<Store, Failure> {
    let schema = schema.unwrap_or(DEFAULT_SCHEMA);
    let postgres = builder(url, schema).migrate(mode == Open::Create).connect().await.map_err(explain)?;
    Ok(Store::new(Arc::new(postgres), format!("PostgreSQL {}, schema {schema}", redact(url))))
}

pub(super) async fn migrate(url: &str, schema: Option<&str>, print_sql: bool, from: i64) -> Result<String, Failure> {
    let schema = schema.unwrap_or(DEFAULT_SCHEMA);
    if print_sql {
        if !(0..=SCHEMA_VERSION).contains(&from) {
            return Err(Failure::Usage(format!(
                "--from {from}: the jobs schema versions are 0 (none yet) to {SCHEMA_VERSION}"
            )));
        }
        return Ok(migration_sql(schema, from)?.trim_end().to_owned());
    }
    let applied = builder(url, schema).run_migrations().await.map_err(explain)?;
    Ok(if applied.is_empty() {
        format!("PostgreSQL schema {schema} is up to date: jobs schema version {SCHEMA_VERSION}")
    } else {
        let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
        format!(
            "PostgreSQL schema {schema}: applied migration {}; now at jobs schema version {SCHEMA_VERSION}",
            versions.join(", ")
        )
    })
}

pub(super) async fn check(url: &str, schema: Option<&str>) -> (Option<Store>, Vec<Finding>) {
    match open(url, schema, Open::Existing).await {
        Ok(store) => {
            let findings = vec![
                Finding::ok("connection", format!("connected to {}", store.shown())),
                Finding::ok("schema", format!("jobs schema version {SCHEMA_VERSION}, as this build expects")),
            ];
            (Some(store), findings)
        }
        Err(failure) => {
            let check = if matches!(failure, Failure::Failed(ref m) if m.contains("jobs schema")) {
                "schema"
            } else {
                "connection"
            };
            (None, vec![Finding::failed(check, failure.to_string())])
        }
    }
}

/// The adapter's error, pointing at this CLI's `migrate` when the schema is missing or behind.
fn explain(error: Error) -> Failure {
    if let Error::Adapter(adapter) = &error
        && let Some(PostgresError::SchemaOutdated { schema, found, expected }) = adapter.downcast_ref::<PostgresError>()
    {
        let state = if *found == 0 { "has no jobs tables yet".to_owned() } else { format!("is at version {found}") };
        return Failure::Failed(format!(
            "the jobs schema {schema} {state}, this build needs version {expected}: run `migrate` \
             (or apply the SQL that `migrate --print-sql --from {found}` prints with your own migration tool)"
        ));
    }
    match error {
        Error::Config(message) => Failure::Usage(message),
        other => Failure::Failed(other.to_string()),
    }
}
