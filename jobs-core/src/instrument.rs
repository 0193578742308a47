//! Log lines in the spirit of Rails' (`Enqueued X (Job ID: ..) to Memory(default)`).

use std::time::Duration;

use crate::error::JobError;
use crate::payload::JobData;

fn arguments(data: &JobData, log_arguments: bool) -> String {
    if !log_arguments || data.arguments.is_empty() {
        return String::new();
    }
    let list: Vec<String> = data.arguments.iter().map(|a| a.to_string()).collect();
    format!(" with arguments: {}", list.join(", "))
}

pub(crate) fn enqueued(adapter: &str, data: &JobData, provider_job_id: Option<&str>, log_arguments: bool) {
    let at = match data.scheduled_at {
        Some(at) => format!(" at {}", crate::payload::format_time(&at)),
        None => String::new(),
    };
    tracing::info!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        provider_job_id = provider_job_id,
        queue = %data.queue_name,
        "Enqueued {} (Job ID: {}) to {}({}){}{}",
        data.job_class, data.job_id, adapter, data.queue_name, at, arguments(data, log_arguments)
    );
}

pub(crate) fn perform_start(adapter: &str, data: &JobData, log_arguments: bool) {
    tracing::debug!(
        target: "jobs",
        job_class = %data.job_class,
        job_id = %data.job_id,
        queue = %data.queue_name,
        attempt = data.executions,
        "Performing {} (Job ID: {}) from {}({}) enqueued at {}{}",
        data.job_class,
        data.job_id,
        adapter,
        data.queue_name,
        data.enqueued_at.map(|t| crate::payload::format_time(&t)).unwrap_or_default(),
        arguments(data, log_arguments)
    );
}

pub(crate) fn performed(adapter: &str, data: &JobData, took: Duration, error: Option<&JobError>) {
    let ms = took.as_secs_f64() * 1000.0;
    match error {
        None => tracing::info!(
            target: "jobs",
            job_class = %data.job_class,
            job_id = %data.job_id,
            queue = %data.queue_name,
            attempt = data.executions,
            "Performed {} (Job ID: {}) from {}({}) in {:.2}ms",
            data.job_class, data.job_id, adapter, data.queue_name, ms
        ),
        Some(error) => tracing::warn!(
            target: "jobs",
            job_class = %data.job_class,
            job_id = %data.job_id,
            queue = %data.queue_name,
            attempt = data.executions,
            "Error performing {} (Job ID: {}) from {}({}) in {:.2}ms: {}",
            data.job_class, data.job_id, adapter, data.queue_name, ms, error
        ),
    }
}
