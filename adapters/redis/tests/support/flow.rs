//! What the flow-control tests share: jobs with flow keys, claims and slots.

use std::time::Duration;

use jobs_core::JobData;
use jobs_core::adapter::{Backend, ClaimParams, ClaimedJob, FlowStore, NewJob, SlotOutcome, SlotParams, Uniqueness};
use jobs_core::{FlowKeys, JobState};
use jobs_redis::RedisAdapter;

/// A job of class `FlowJob` on queue `flow` with the given flow keys.
pub fn job(job_id: &str, priority: Option<i32>, flow: FlowKeys) -> NewJob {
    let mut data = JobData::from_json(&format!(
        r#"{{"job_class":"FlowJob","job_id":"{job_id}","queue_name":"flow","arguments":["{job_id}"]}}"#
    ))
    .unwrap();
    data.priority = priority;
    data.flow = Some(flow);
    NewJob::new(data).unwrap()
}

/// A job with the concurrency key `key`.
pub fn limited(job_id: &str, priority: Option<i32>, key: &str) -> NewJob {
    job(job_id, priority, FlowKeys { concurrency: Some(key.into()), ..FlowKeys::default() })
}

/// A rule holding `key` while its holder is scheduled, ready, running or retrying.
pub fn unique(key: &str) -> Option<Uniqueness> {
    let states = vec![JobState::Scheduled, JobState::Ready, JobState::Running, JobState::Retrying];
    Some(Uniqueness { key: key.into(), states, until: None })
}

/// Claims up to `limit` jobs of the queue `flow`.
pub async fn claim(redis: &RedisAdapter, limit: usize, lease: Duration) -> Vec<ClaimedJob> {
    let queues = ["flow".to_owned()];
    redis.claim(ClaimParams { queues: &queues, limit, lease, worker_id: "flow-test" }).await.unwrap()
}

/// Takes a slot of `key` for `job`, blocking it when the key is full.
pub async fn acquire(redis: &RedisAdapter, job: &ClaimedJob, key: &str, limit: u32, hold: Duration) -> SlotOutcome {
    let params = SlotParams { ticket: &job.ticket, key, limit, hold, block: true };
    redis.acquire_slot(params).await.unwrap()
}

/// The Active Job id of a claimed job.
pub fn job_id(job: &ClaimedJob) -> String {
    JobData::from_json(&job.payload).unwrap().job_id
}
