//! The registry of worker processes: a row per process, upserted at each heartbeat (which also
//! takes the command an operator left for it), hidden and pruned once its time to live is past,
//! deleted when the worker stops.

use std::time::Duration;

use jobs_core::adapter::duration_to_micros;
use jobs_core::{ProcessCommand, ProcessInfo, ProcessState};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;

fn malformed(what: &str, error: impl std::fmt::Display) -> PostgresError {
    PostgresError::Malformed(format!("process {what}: {error}"))
}

fn state(text: &str) -> Result<ProcessState, PostgresError> {
    let states = [ProcessState::Running, ProcessState::Quiet, ProcessState::Stopping];
    states.into_iter().find(|s| s.as_str() == text).ok_or_else(|| malformed("state", text))
}

fn command(text: &str) -> Result<ProcessCommand, PostgresError> {
    let commands = [ProcessCommand::Quiet, ProcessCommand::Stop];
    commands.into_iter().find(|c| c.as_str() == text).ok_or_else(|| malformed("command", text))
}

fn process_info(row: &PgRow) -> Result<ProcessInfo, PostgresError> {
    let number = |column: &str| -> Result<u64, PostgresError> {
        u64::try_from(row.try_get::<i64, _>(column)?).map_err(|e| malformed(column, e))
    };
    Ok(ProcessInfo {
        id: row.try_get("id")?,
        hostname: row.try_get("hostname")?,
        pid: u32::try_from(number("pid")?).map_err(|e| malformed("pid", e))?,
        version: row.try_get("version")?,
        queues: row.try_get("queues")?,
        concurrency: usize::try_from(number("concurrency")?).unwrap_or(usize::MAX),
        busy: usize::try_from(number("busy")?).unwrap_or(usize::MAX),
        started_at: row.try_get("started_at")?,
        last_heartbeat: row.try_get("last_heartbeat")?,
        state: state(&row.try_get::<String, _>("state")?)?,
    })
}

impl PostgresAdapter {
    fn processes_table(&self) -> String {
        format!("{}.processes", self.inner().schema.quoted)
    }

    /// Registers or refreshes `info`, alive for `ttl` from now on the server's clock, and takes
    /// its pending command, in one statement: the row is locked, updated with the command
    /// cleared, and the command it held returned; a process seen for the first time is inserted.
    pub(crate) async fn beat(
        &self,
        info: &ProcessInfo,
        ttl: Duration,
    ) -> Result<Option<ProcessCommand>, PostgresError> {
        let processes = self.processes_table();
        let sql = format!(
            "WITH old AS (
                SELECT id, command FROM {processes} WHERE id = $1 FOR UPDATE
             ), beaten AS (
                UPDATE {processes} p
                SET hostname = $2, pid = $3, version = $4, queues = $5, concurrency = $6, busy = $7, state = $8,
                    started_at = $9, last_heartbeat = now(), expires_at = now() + $10 * interval '1 microsecond',
                    command = NULL
                FROM old WHERE p.id = old.id
                RETURNING old.command
             ), registered AS (
                INSERT INTO {processes}
                    (id, hostname, pid, version, queues, concurrency, busy, state, started_at, last_heartbeat, expires_at)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, now(), now() + $10 * interval '1 microsecond'
                WHERE NOT EXISTS (SELECT 1 FROM old)
                ON CONFLICT (id) DO UPDATE
                SET hostname = excluded.hostname, pid = excluded.pid, version = excluded.version,
                    queues = excluded.queues, concurrency = excluded.concurrency, busy = excluded.busy,
                    state = excluded.state, started_at = excluded.started_at,
                    last_heartbeat = excluded.last_heartbeat, expires_at = excluded.expires_at
             )
             SELECT command FROM beaten"
        );
        let number = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let pending: Option<Option<String>> = self
            .retrying("beat_process", || {
                sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
                    .bind(&info.id)
                    .bind(&info.hostname)
                    .bind(i64::from(info.pid))
                    .bind(&info.version)
                    .bind(&info.queues)
                    .bind(number(info.concurrency))
                    .bind(number(info.busy))
                    .bind(info.state.as_str())
                    .bind(info.started_at)
                    .bind(duration_to_micros(ttl))
                    .fetch_optional(self.pool())
            })
            .await?;
        pending.flatten().as_deref().map(command).transpose()
    }

    /// The live processes by id; rows past their time to live are deleted on the way.
    pub(crate) async fn live_processes(&self) -> Result<Vec<ProcessInfo>, PostgresError> {
        let processes = self.processes_table();
        let sql = format!(
            "WITH gone AS (DELETE FROM {processes} WHERE expires_at <= now())
             SELECT id, hostname, pid, version, queues, concurrency, busy, state, started_at, last_heartbeat
             FROM {processes} WHERE expires_at > now() ORDER BY id"
        );
        let rows =
            self.retrying("processes", || sqlx::query(AssertSqlSafe(sql.as_str())).fetch_all(self.pool())).await?;
        rows.iter().map(process_info).collect()
    }

    /// Leaves `command` for the live process `id`; false when there is none.
    pub(crate) async fn signal_process(&self, id: &str, command: ProcessCommand) -> Result<bool, PostgresError> {
        let sql = format!("UPDATE {} SET command = $2 WHERE id = $1 AND expires_at > now()", self.processes_table());
        let done = self
            .retrying("signal", || {
                sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).bind(command.as_str()).execute(self.pool())
            })
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets the process of a worker that stopped.
    pub(crate) async fn forget_process(&self, id: &str) -> Result<(), PostgresError> {
        let sql = format!("DELETE FROM {} WHERE id = $1", self.processes_table());
        self.retrying("worker_stopped", || sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).execute(self.pool()))
            .await?;
        Ok(())
    }
}
