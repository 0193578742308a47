//! The service of the axum example: `POST /signups` writes the sign-up and its welcome job in one
//! transaction of the application's own pool. Shared by `examples/axum/main.rs` and
//! `tests/axum.rs`.

use std::str::FromStr;

use axum::extract::State as Shared;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use jobs::JobError;
use jobs::prelude::*;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// What the handlers share: the application's pool, the jobs adapter on that same pool, and the
/// runtime the jobs are enqueued on.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) pool: PgPool,
    pub(crate) jobs: PostgresAdapter,
    pub(crate) runtime: Runtime,
}

/// The body of `POST /signups`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct SignupForm {
    pub(crate) email: String,
}

/// The answer to a sign-up: its row id and its welcome job's id.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Signup {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) job_id: String,
}

/// Welcomes a sign-up: reads the row the handler wrote (it is there, since the job was committed
/// with it) and marks it welcomed.
#[job(queue = "signups")]
pub(crate) async fn welcome_signup(signup_id: i64, pool: State<PgPool>) -> Result<(), JobError> {
    let email: Option<String> =
        sqlx::query_scalar("UPDATE signups SET welcomed_at = now() WHERE id = $1 RETURNING email")
            .bind(signup_id)
            .fetch_optional(&*pool)
            .await
            .map_err(JobError::from_error)?;
    match email {
        Some(email) => {
            tracing::info!("welcome mail sent to {email} (sign-up {signup_id})");
            Ok(())
        }
        None => Err(JobError::from_error(format!("sign-up {signup_id} does not exist"))),
    }
}

/// The application's pool on `url`, its tables in `schema` (created if missing): its connections
/// have `schema` as their `search_path`, so the application's SQL names no schema. Lazy: it
/// connects on first use.
pub(crate) fn pool(url: &str, schema: &str) -> Result<PgPool, Box<dyn std::error::Error>> {
    if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("schema name {schema:?}: letters, digits and _ only").into());
    }
    let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
    Ok(PgPoolOptions::new().max_connections(5).connect_lazy_with(options))
}

/// Creates the application's schema and tables, then the jobs adapter on the same pool, its
/// tables in the same schema, and a runtime on it that gives jobs the pool as state.
pub(crate) async fn start(pool: PgPool, schema: &str) -> Result<App, Box<dyn std::error::Error>> {
    let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&pool).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS signups (id bigserial PRIMARY KEY, email text NOT NULL, welcomed_at timestamptz)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS registered_emails (email text PRIMARY KEY)").execute(&pool).await?;
    let jobs = PostgresAdapter::builder().pool(pool.clone()).schema(schema).connect().await?;
    let runtime = Runtime::builder().adapter(jobs.clone()).state(pool.clone()).build()?;
    Ok(App { pool, jobs, runtime })
}

/// The routes: `POST /signups` with `{"email": ".."}`.
pub(crate) fn router(app: App) -> Router {
    Router::new().route("/signups", post(sign_up)).with_state(app)
}

/// Writes the sign-up, enqueues its welcome job, then registers the address, all in one
/// transaction: an address already registered fails the request after the job was written, and
/// the rollback takes the sign-up and the job with it.
async fn sign_up(
    Shared(app): Shared<App>,
    Json(form): Json<SignupForm>,
) -> Result<(StatusCode, Json<Signup>), (StatusCode, String)> {
    let mut tx = app.pool.begin().await.map_err(internal)?;
    let id: i64 = sqlx::query_scalar("INSERT INTO signups (email) VALUES ($1) RETURNING id")
        .bind(&form.email)
        .fetch_one(&mut *tx)
        .await
        .map_err(internal)?;
    let enqueued =
        app.runtime.scope(app.jobs.enqueue_in(&mut tx, WelcomeSignup { signup_id: id })).await.map_err(internal)?;
    let registered = sqlx::query("INSERT INTO registered_emails (email) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(&form.email)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    if registered.rows_affected() == 0 {
        // `tx` is dropped without a commit: rolled back, the job with it.
        return Err((StatusCode::CONFLICT, format!("{} is already registered", form.email)));
    }
    tx.commit().await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(Signup { id, email: form.email, job_id: enqueued.job_id })))
}

fn internal(error: impl std::fmt::Display) -> (StatusCode, String) {
    tracing::error!("sign-up failed: {error}");
    (StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}
