//! A trace from enqueue to perform, captured by OpenTelemetry's in-memory exporter: the `send`
//! span is a child of the request, the payload carries its context under `__otel_headers`, and the
//! `process` span that a worker runs on SQLite or Redis links to it (or, configured so, is its
//! child), with the job's own spans inside. In a binary of its own: it installs the global
//! subscriber (once, through `jobs::otel::install_with`); each test reads only its own jobs' spans.

use std::sync::OnceLock;
use std::time::Duration;

use jobs::otel::{Linking, OtelConfig, OtelPropagator};
use jobs::prelude::*;
use jobs_conformance::{service_url, unavailable};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Instrument;

#[job(queue = "billing")]
async fn charge_invoice(invoice: String) -> Result<(), std::io::Error> {
    async { tracing::info!(%invoice, "charged") }.instrument(tracing::info_span!("charge")).await;
    Ok(())
}

#[job(queue = "flaky-billing", retry_on(std::io::Error, attempts = 3, wait = "0s"))]
async fn charge_flakily(invoice: String, ctx: &JobContext) -> Result<(), std::io::Error> {
    match ctx.executions() {
        1 => Err(std::io::Error::other(format!("{invoice}: gateway timeout"))),
        _ => Ok(()),
    }
}

fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let config = OtelConfig::new("trace-context-test").filter("info").without_log_lines();
        let telemetry = jobs::otel::install_with(config, provider).expect("the only subscriber of this binary");
        std::mem::forget(telemetry); // spans export as they end; nothing to flush at exit
        exporter
    })
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes.iter().find(|KeyValue { key: k, .. }| k.as_str() == key).map(|kv| kv.value.clone())
}

fn string(span: &SpanData, key: &str) -> String {
    attribute(span, key).map(|v| v.as_str().into_owned()).unwrap_or_else(|| panic!("no {key} on {span:#?}"))
}

/// Every finished span of job `job_id`'s trace: its `send`, its `process` and their children.
async fn spans_of(job_id: &str) -> (SpanData, SpanData, Vec<SpanData>) {
    for _ in 0..500 {
        let spans = exporter().get_finished_spans().unwrap();
        let find = |name: &str| {
            spans
                .iter()
                .find(|s| {
                    s.name.starts_with(name) && attribute(s, "messaging.message.id") == Some(job_id.to_owned().into())
                })
                .cloned()
        };
        if let (Some(send), Some(process)) = (find("send "), find("process ")) {
            let children =
                spans.iter().filter(|s| s.parent_span_id == process.span_context.span_id()).cloned().collect();
            return (send, process, children);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no send and process spans of job {job_id}");
}

/// Enqueues one job inside a `request` span, works it with a worker, and checks the trace.
async fn trace_through(adapter: impl jobs::adapter::Adapter, system: &str, linking: Linking) {
    exporter();
    let runtime =
        Runtime::builder().adapter(adapter).trace_propagator(OtelPropagator::new().linking(linking)).build().unwrap();
    let request = tracing::info_span!("request");
    let enqueued =
        runtime.perform_later(ChargeInvoice { invoice: "INV-7".into() }).instrument(request.clone()).await.unwrap();
    let inspector = runtime.adapter().inspector().unwrap();
    let stored = inspector.find(enqueued.provider_job_id.as_deref().unwrap()).await.unwrap().unwrap();
    let headers = stored.data().unwrap().trace_headers.expect("the payload carries the enqueue's trace context");

    let worker = Worker::builder().runtime(&runtime).queues(["billing"]).build().unwrap().start();
    let (send, process, children) = spans_of(&enqueued.job_id).await;
    worker.shutdown().await.unwrap();

    // request → send: the enqueue is a producer span in the request's trace.
    assert_eq!(send.name, "send billing");
    assert_eq!(send.span_kind, SpanKind::Producer);
    let request_trace = send.span_context.trace_id();
    assert_eq!(string(&send, "messaging.system"), system);
    assert_eq!(string(&send, "messaging.operation.type"), "send");
    assert_eq!(string(&send, "messaging.destination.name"), "billing");
    assert_eq!(string(&send, "jobs.class"), "ChargeInvoice");
    assert_eq!(headers.keys().collect::<Vec<_>>(), ["traceparent"], "no empty tracestate: {headers:?}");
    let traceparent = &headers["traceparent"];
    assert_eq!(
        traceparent,
        &format!("00-{}-{}-01", request_trace, send.span_context.span_id()),
        "the payload carries the send span's context"
    );

    // send → process: linked (a trace of its own), or a child.
    assert_eq!(process.name, "process billing");
    assert_eq!(process.span_kind, SpanKind::Consumer);
    match linking {
        Linking::Link => {
            let links: Vec<_> =
                process.links.iter().map(|l| (l.span_context.trace_id(), l.span_context.span_id())).collect();
            let sent = (send.span_context.trace_id(), send.span_context.span_id());
            assert_eq!(links, [sent], "the process span links to the send span");
            assert_ne!(process.span_context.trace_id(), request_trace);
        }
        _ => {
            assert_eq!(process.span_context.trace_id(), request_trace);
            assert_eq!(process.parent_span_id, send.span_context.span_id());
        }
    }
    assert_eq!(string(&process, "messaging.system"), system);
    assert_eq!(string(&process, "messaging.operation.type"), "process");
    assert_eq!(string(&process, "messaging.operation.name"), "perform");
    assert_eq!(string(&process, "messaging.destination.name"), "billing");
    assert_eq!(string(&process, "jobs.class"), "ChargeInvoice");
    assert_eq!(string(&process, "jobs.outcome"), "performed");
    assert_eq!(attribute(&process, "jobs.attempt"), Some(Value::I64(1)));
    assert_eq!(process.status, Status::Unset);

    // process → the job's own spans.
    assert!(children.iter().any(|s| s.name == "charge"), "the job's span is a child of process: {children:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqlite_links_the_perform_to_the_enqueue() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = jobs::sqlite::SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
    trace_through(sqlite, "sqlite", Linking::Link).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqlite_can_make_the_perform_a_child_of_the_enqueue() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = jobs::sqlite::SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
    trace_through(sqlite, "sqlite", Linking::Child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_redis_links_the_perform_to_the_enqueue() {
    use std::hash::{BuildHasher, RandomState};
    let url = service_url("JOBS_TEST_REDIS_URL", jobs::redis::DEFAULT_URL);
    let prefix = format!("jobs-test:{:016x}:", RandomState::new().hash_one(std::time::SystemTime::now()));
    let redis = match jobs::redis::RedisAdapter::builder().url(url).prefix(prefix).connect().await {
        Ok(redis) => redis,
        Err(error) => return unavailable::<()>("Redis", "the Redis trace test", error).unwrap_or(()),
    };
    let _cleanup = Cleanup(Some(redis.clone()));
    trace_through(redis, "redis", Linking::Link).await;
}

/// Deletes the keys of the test's prefix when dropped, passed or failed, over a connection of its
/// own (the test's runtime is blocked in the drop).
struct Cleanup(Option<jobs::redis::RedisAdapter>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(redis) = self.0.take() else { return };
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let url = service_url("JOBS_TEST_REDIS_URL", jobs::redis::DEFAULT_URL);
                let fresh = jobs::redis::RedisAdapter::builder().url(url).prefix(redis.prefix()).connect().await;
                if let Ok(fresh) = fresh {
                    let _ = fresh.clear().await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_keeps_the_context_of_the_original_enqueue() {
    exporter();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = jobs::sqlite::SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
    let runtime = Runtime::builder().adapter(sqlite).trace_propagator(OtelPropagator::new()).build().unwrap();
    let enqueued = runtime
        .perform_later(ChargeFlakily { invoice: "INV-9".into() })
        .instrument(tracing::info_span!("request"))
        .await
        .unwrap();
    let worker = Worker::builder().runtime(&runtime).queues(["flaky-billing"]).build().unwrap().start();
    let runs = {
        let mut runs = Vec::new();
        for _ in 0..500 {
            runs = exporter()
                .get_finished_spans()
                .unwrap()
                .into_iter()
                .filter(|s| {
                    s.name == "process flaky-billing"
                        && attribute(s, "messaging.message.id") == Some(enqueued.job_id.clone().into())
                })
                .collect::<Vec<_>>();
            if runs.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        runs
    };
    worker.shutdown().await.unwrap();
    assert_eq!(runs.len(), 2, "the failed run and its retry");
    let outcomes: Vec<String> = runs.iter().map(|s| string(s, "jobs.outcome")).collect();
    assert_eq!(outcomes, ["retried", "performed"]);
    assert_eq!(string(&runs[0], "error.type"), "std::io::error::Error", "the error class, as the dead set shows it");
    assert!(matches!(runs[0].status, Status::Error { .. }), "{:?}", runs[0].status);
    let links: Vec<_> =
        runs.iter().map(|s| s.links.iter().map(|l| l.span_context.span_id()).collect::<Vec<_>>()).collect();
    assert_eq!(links[0].len(), 1);
    assert_eq!(links[0], links[1], "both runs link to the one enqueue");
}

#[tokio::test]
async fn without_a_propagator_the_payload_carries_no_headers() {
    exporter();
    let jobs = jobs::adapters::TestAdapter::new();
    let runtime = Runtime::builder().adapter(jobs.clone()).build().unwrap();
    // Even inside a recorded span: the default runtime writes no trace context, and the payload
    // stays as Rails writes it.
    runtime
        .perform_later(ChargeInvoice { invoice: "INV-8".into() })
        .instrument(tracing::info_span!("request"))
        .await
        .unwrap();
    let enqueued = jobs.enqueued_jobs();
    assert_eq!(enqueued.len(), 1);
    assert_eq!(enqueued[0].trace_headers, None);
    assert!(!enqueued[0].to_json().unwrap().contains("__otel_headers"));
}
