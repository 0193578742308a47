//! The registry of worker processes: heartbeats, listings, and the commands operators leave.

use std::time::Duration;

use jobs_core::adapter::{duration_to_micros, micros_to_time, time_to_micros};
use jobs_core::{ProcessCommand, ProcessInfo, ProcessState};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::BEGIN_WRITE;

/// The command waiting for process `?1`, if any.
const PENDING: &str = "SELECT command FROM jobs_processes WHERE id = ?1";

/// Registers or refreshes a process (beaten at `?10`, alive until `?11`), its command taken.
const BEAT: &str = "
    INSERT INTO jobs_processes (id, hostname, pid, version, queues, concurrency, busy, state, started_at,
                                last_heartbeat, expires_at, command)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)
    ON CONFLICT (id) DO UPDATE
    SET hostname = excluded.hostname, pid = excluded.pid, version = excluded.version, queues = excluded.queues,
        concurrency = excluded.concurrency, busy = excluded.busy, state = excluded.state,
        started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat,
        expires_at = excluded.expires_at, command = NULL";

/// Forgets the processes whose time to live ended by `?1`: they died without deregistering.
const PRUNE: &str = "DELETE FROM jobs_processes WHERE expires_at <= ?1";

/// The processes alive at `?1`, by id.
const LIVE: &str = "SELECT id, hostname, pid, version, queues, concurrency, busy, state, started_at, last_heartbeat \
                    FROM jobs_processes WHERE expires_at > ?1 ORDER BY id";

/// Leaves command `?3` for process `?2` if alive at `?1`; a pending stop is never weakened to quiet.
const SIGNAL: &str = "UPDATE jobs_processes SET command = CASE WHEN command = 'stop' THEN 'stop' ELSE ?3 END \
                      WHERE id = ?2 AND expires_at > ?1";

/// Deregisters process `?1`.
const STOPPED: &str = "DELETE FROM jobs_processes WHERE id = ?1";

fn malformed(what: &str, value: &dyn std::fmt::Display) -> SqliteError {
    SqliteError::Malformed(format!("process {what}: {value}"))
}

fn process_info(row: &SqliteRow) -> Result<ProcessInfo, SqliteError> {
    let queues: String = row.try_get("queues")?;
    let state: String = row.try_get("state")?;
    let number = |column: &str| -> Result<i64, SqliteError> { Ok(row.try_get::<i64, _>(column)?) };
    Ok(ProcessInfo {
        id: row.try_get("id")?,
        hostname: row.try_get("hostname")?,
        pid: u32::try_from(number("pid")?).map_err(|e| malformed("pid", &e))?,
        version: row.try_get("version")?,
        queues: serde_json::from_str(&queues).map_err(|e| malformed("queues", &e))?,
        concurrency: usize::try_from(number("concurrency")?).map_err(|e| malformed("concurrency", &e))?,
        busy: usize::try_from(number("busy")?).map_err(|e| malformed("busy", &e))?,
        started_at: micros_to_time(number("started_at")?),
        last_heartbeat: micros_to_time(number("last_heartbeat")?),
        state: match state.as_str() {
            "running" => ProcessState::Running,
            "quiet" => ProcessState::Quiet,
            "stopping" => ProcessState::Stopping,
            other => return Err(malformed("state", &other)),
        },
    })
}

fn command(text: &str) -> Result<ProcessCommand, SqliteError> {
    match text {
        "quiet" => Ok(ProcessCommand::Quiet),
        "stop" => Ok(ProcessCommand::Stop),
        other => Err(malformed("command", &other)),
    }
}

impl SqliteAdapter {
    /// Upserts `info`, beaten now and alive for `ttl`, and takes its pending command, in one
    /// transaction so that a signal is returned exactly once.
    pub(crate) async fn beat(&self, info: &ProcessInfo, ttl: Duration) -> Result<Option<ProcessCommand>, SqliteError> {
        let now = time_to_micros(self.now());
        let queues = serde_json::to_string(&info.queues).map_err(|e| SqliteError::Malformed(e.to_string()))?;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let pending: Option<Option<String>> =
            sqlx::query_scalar(PENDING).bind(&info.id).fetch_optional(&mut *tx).await?;
        sqlx::query(BEAT)
            .bind(&info.id)
            .bind(&info.hostname)
            .bind(i64::from(info.pid))
            .bind(&info.version)
            .bind(queues)
            .bind(count(info.concurrency))
            .bind(count(info.busy))
            .bind(info.state.as_str())
            .bind(time_to_micros(info.started_at))
            .bind(now)
            .bind(now.saturating_add(duration_to_micros(ttl)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        pending.flatten().as_deref().map(command).transpose()
    }

    /// The live processes; the dead ones are forgotten on the way.
    pub(crate) async fn live_processes(&self) -> Result<Vec<ProcessInfo>, SqliteError> {
        let now = time_to_micros(self.now());
        sqlx::query(PRUNE).bind(now).execute(self.pool()).await?;
        let rows = sqlx::query(LIVE).bind(now).fetch_all(self.pool()).await?;
        rows.iter().map(process_info).collect()
    }

    /// Leaves `command` for the live process `id`; false if there is none.
    pub(crate) async fn signal_process(&self, id: &str, command: ProcessCommand) -> Result<bool, SqliteError> {
        let now = time_to_micros(self.now());
        let done = sqlx::query(SIGNAL).bind(now).bind(id).bind(command.as_str()).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deregisters the process `id`.
    pub(crate) async fn deregister(&self, id: &str) -> Result<(), SqliteError> {
        sqlx::query(STOPPED).bind(id).execute(self.pool()).await?;
        Ok(())
    }
}
