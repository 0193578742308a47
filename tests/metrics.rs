//! `metrics` counters and histograms, labelled by queue and class. In a binary of its own because
//! it installs a global recorder.

use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[job(queue = "mailers", discard_on(std::io::Error))]
async fn send_digest(user: String) -> Result<(), std::io::Error> {
    if user == "nobody" { Err(std::io::Error::other("no such user")) } else { Ok(()) }
}

type Metric = (MetricKind, String, Vec<(String, String)>, DebugValue);

#[tokio::test]
async fn counts_and_times_jobs_by_queue_and_class() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();

    let jobs = TestAdapter::new();
    let rt = Runtime::builder().adapter(jobs.clone()).build().unwrap();
    rt.scope(async {
        SendDigest::perform_later("ada".into()).await.unwrap();
        SendDigest::perform_later("nobody".into()).await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
    })
    .await;

    let metrics: Vec<Metric> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let labels = key.labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
            (kind, key.name().to_owned(), labels, value)
        })
        .collect();
    let find = |name: &str, extra: &[(&str, &str)]| {
        metrics
            .iter()
            .find(|(_, n, labels, _)| {
                n == name
                    && labels.contains(&("queue".into(), "mailers".into()))
                    && labels.contains(&("class".into(), "SendDigest".into()))
                    && extra.iter().all(|(k, v)| labels.contains(&((*k).into(), (*v).into())))
            })
            .unwrap_or_else(|| panic!("no {name} {extra:?} in {metrics:#?}"))
    };
    assert!(matches!(find("jobs_enqueued_total", &[]).3, DebugValue::Counter(2)));
    assert!(matches!(find("jobs_performed_total", &[("outcome", "performed")]).3, DebugValue::Counter(1)));
    assert!(matches!(find("jobs_performed_total", &[("outcome", "discarded")]).3, DebugValue::Counter(1)));
    assert!(matches!(find("jobs_discarded_total", &[]).3, DebugValue::Counter(1)));
    assert!(matches!(&find("jobs_perform_duration_seconds", &[]).3, DebugValue::Histogram(h) if h.len() == 2));
    assert!(matches!(&find("jobs_queue_latency_seconds", &[]).3, DebugValue::Histogram(h) if h.len() == 2));
}
