//! Leases and fencing: rescue of jobs whose worker vanished, stale writes, graceful shutdown.

use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start};
use crate::jobs::{Block, Record};
use jobs_core::JobState;

const LONG: Duration = Duration::from_secs(3600);

/// The lease a case gives a claim it means to let expire: short in real time, a minute on a
/// manual clock.
pub(crate) fn short_lease(env: &Env) -> Duration {
    if env.manual().is_some() { Duration::from_secs(60) } else { Duration::from_millis(300) }
}

/// A job whose worker vanished (no heartbeat) is rescued once its lease expires, and only then,
/// and a worker runs it again; a heartbeat keeps a lease alive.
pub async fn expired_lease_is_rescued(fixture: Fixture) {
    let env = Env::new(fixture);
    let lost = env.enqueue("lease", Record::new("lost")).await;
    let held = env.enqueue("lease", Record::new("held")).await;
    let lease = short_lease(&env);
    let vanished = env.claim_one("lease", lease).await;
    assert_eq!(vanished.ticket.id, lost);
    env.claim_one("lease", LONG).await;

    if let Some(clock) = env.manual() {
        let beating = env.enqueue("lease", Record::new("beating")).await;
        let live = env.claim_one("lease", lease).await;
        assert_eq!(live.ticket.id, beating);
        assert_eq!(env.backend().rescue_expired().await.unwrap(), 0, "no lease has expired yet");
        clock.advance(lease * 2 / 3);
        assert_eq!(env.backend().heartbeat(std::slice::from_ref(&live.ticket), lease).await.unwrap(), 1);
        clock.advance(lease / 2 + Duration::from_secs(1));
        env.rescue(1).await;
        assert_eq!(env.find(&beating).await.state, JobState::Running, "a heartbeat renews the lease");
    } else {
        env.outlive(lease).await;
        env.rescue(1).await;
    }
    let rescued = env.find(&lost).await;
    assert_eq!((rescued.state, rescued.attempts), (JobState::Ready, 1), "the vanished worker's attempt stays counted");
    assert_eq!(env.find(&held).await.state, JobState::Running, "a job whose lease holds is not rescued");

    let worker = env.worker(&["lease"]).start();
    env.wait_for("the rescued job to run", || env.probe.count("lost") == 1).await;
    worker.shutdown().await.unwrap();
    assert_eq!(env.probe.runs_of("lost")[0].executions, 1, "the vanished run never reported, so this is the first");
    let done = env.find(&lost).await;
    assert_eq!((done.state, done.attempts), (JobState::Completed, 2));
}

/// Once a job was rescued and claimed again, the first claim's ticket can neither complete,
/// fail, release nor heartbeat it; the current ticket can.
pub async fn stale_token_cannot_write(fixture: Fixture) {
    let env = Env::new(fixture);
    let id = env.enqueue("fencing", Record::new("fenced")).await;
    let lease = short_lease(&env);
    let stale = env.claim_one("fencing", lease).await.ticket;
    env.outlive(lease).await;
    env.rescue(1).await;
    assert_eq!(env.backend().complete(std::slice::from_ref(&stale)).await.unwrap(), 0, "complete after rescue");
    let current = env.claim_one("fencing", LONG).await.ticket;
    assert_eq!(current.id, stale.id);
    assert_ne!(current.token, stale.token, "a new claim gets a new fencing token");

    let backend = env.backend();
    let stale_failure = env.failure(&stale, 1, "stale", None);
    assert_eq!(backend.complete(std::slice::from_ref(&stale)).await.unwrap(), 0, "stale complete");
    assert_eq!(backend.fail(std::slice::from_ref(&stale_failure)).await.unwrap(), 0, "stale fail");
    assert_eq!(backend.release(std::slice::from_ref(&stale)).await.unwrap(), 0, "stale release");
    assert_eq!(backend.heartbeat(std::slice::from_ref(&stale), LONG).await.unwrap(), 0, "stale heartbeat");
    let running = env.find(&id).await;
    assert_eq!((running.state, running.attempts), (JobState::Running, 2));
    assert!(running.errors.is_empty(), "a stale failure left an error: {:?}", running.errors);

    assert_eq!(backend.heartbeat(std::slice::from_ref(&current), LONG).await.unwrap(), 1);
    assert_eq!(backend.complete(std::slice::from_ref(&current)).await.unwrap(), 1);
    assert_eq!(env.find(&id).await.state, JobState::Completed);
    assert_eq!(backend.complete(std::slice::from_ref(&current)).await.unwrap(), 0, "a ticket completes once");
}

/// Shutting a worker down hands its running jobs back, ready, without spending an attempt,
/// whether the job stops when asked or has to be abandoned; the next worker runs them as a first
/// execution.
pub async fn shutdown_returns_jobs_without_spending_attempt(fixture: Fixture) {
    let env = Env::new(fixture);
    let polite = env.enqueue("shutdown", Block { key: "polite".into(), cooperative: true }).await;
    let stubborn = env.enqueue("shutdown", Block { key: "stubborn".into(), cooperative: false }).await;
    let worker = env
        .worker(&["shutdown"])
        .concurrency(2)
        .shutdown_grace(Duration::from_millis(50))
        .stop_timeout(Duration::from_millis(50))
        .start();
    env.wait_for("both jobs to start", || env.probe.started().len() == 2).await;
    worker.shutdown().await.unwrap();

    for id in [&polite, &stubborn] {
        let info = env.find(id).await;
        assert_eq!((info.state, info.attempts), (JobState::Ready, 0), "job {id} after shutdown: {info:?}");
        assert!(info.errors.is_empty(), "shutdown is not a failure: {:?}", info.errors);
        assert_eq!(info.data().unwrap().executions, 0, "the payload does not count the interrupted run");
    }

    env.probe.open_gate();
    let worker = env.worker(&["shutdown"]).concurrency(2).start();
    env.wait_for("both jobs to run to the end", || env.probe.runs().len() == 2).await;
    worker.shutdown().await.unwrap();
    for key in ["polite", "stubborn"] {
        assert_eq!(env.probe.runs_of(key)[0].executions, 1, "{key} ran as a first execution");
    }
    assert_eq!(env.find(&polite).await.attempts, 1);
}
