//! The dashboard of [`jobs`](https://docs.rs/jobs): queues, jobs by state, errors and worker
//! processes, as an [`axum::Router`] an application mounts under any prefix.
//!
//! ```no_run
//! # async fn demo(runtime: jobs_core::Runtime, app: axum::Router) -> std::io::Result<()> {
//! let dashboard = jobs_web::Dashboard::for_runtime(&runtime).basic_auth("admin", "s3cret").router();
//! let app = app.nest("/admin/jobs", dashboard);
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! # axum::serve(listener, app).await
//! # }
//! ```
//!
//! It is a view of the operations API ([`Inspect`](jobs_core::Inspect)) and nothing else, so it
//! shows the same on every storing adapter (memory, SQLite, PostgreSQL, Redis):
//!
//! | page | what |
//! |---|---|
//! | overview | jobs per state and queue, processed and failed per minute for the last hour or day (an SVG chart), latency, workers |
//! | queues | size, jobs per state, latency, paused; pause, resume, clear |
//! | jobs | by state, filtered by queue, class, enqueue time and payload text, in keyset pages; bulk retry, run now, discard, delete |
//! | job | the payload (arguments as data, or redacted), attempts, error history, its worker; actions |
//! | processes | hosts, pids, queues, concurrency, busy jobs, heartbeat age; quiet, stop |
//! | recurring | each recurring task's schedule, job, next and last run (linking its job), paused or not; run now, pause, resume |
//!
//! Pages refresh themselves while open (a small script polls the page and swaps its content;
//! it stops while a row is selected or a field has focus) and read well on a phone.
//!
//! # Safe by default
//!
//! * **No access until the application decides who gets it**: a router built without
//!   [`Dashboard::authorize`], [`Dashboard::basic_auth`] or [`Dashboard::open`] answers every
//!   request with `403 Forbidden` and says why.
//! * [`Dashboard::read_only`] hides every action and refuses every `POST`.
//! * Every action is a `POST` that must come from the dashboard's own pages: a same-origin
//!   `Sec-Fetch-Site` (or `Origin`) and a token from a `SameSite=Strict`, `HttpOnly` cookie
//!   echoed in the form (a double-submit token). A link or a form on another site cannot act.
//! * A strict Content-Security-Policy (`default-src 'none'`, scripts and styles only from the
//!   dashboard itself, no inline script or style, no framing), `nosniff`, no referrer.
//! * Every value from a payload is HTML-escaped: a job argument `<script>alert(1)</script>` is
//!   shown as that text. Arguments of a job declared `#[job(log_arguments = false)]` are shown
//!   as `[redacted]` (the class is looked up in the [`Registry`](jobs_core::Registry)), and
//!   [`Dashboard::hide_arguments`] redacts every job's.
//!
//! # Fast with big stores
//!
//! Lists are keyset pages of the operations API, as cheap on the last page as on the first.
//! Counts that scan the store (jobs per queue and state, queue stats, the per-minute history)
//! are cached for [`Dashboard::cache_for`] and refreshed in the background; a page waits at most
//! a few milliseconds for them and otherwise shows the last counts with their age, or "counting…".

#![cfg_attr(docsrs, feature(doc_cfg))]

mod assets;
mod auth;
mod cache;
mod chart;
mod csrf;
mod dashboard;
mod guard;
mod pages;
mod params;
mod render;
mod router;
mod view;

pub use auth::Request;
/// The axum the router is built on, for applications that mount it without depending on axum
/// themselves.
pub use axum;
pub use dashboard::Dashboard;
