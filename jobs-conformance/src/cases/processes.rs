//! Worker processes: registration, heartbeats, signals, expiry, and the worker's side of them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::Fixture;
use crate::env::{Env, Start};
use crate::jobs::{Block, FailBoxed, Record};
use jobs_core::{JobState, ProcessCommand, ProcessInfo, ProcessState};

/// A time to live that outlasts the case.
const LONG: Duration = Duration::from_secs(600);
/// The lease of the workers of these cases: they beat every third of it.
const BEAT_LEASE: Duration = Duration::from_millis(1500);
/// How long to wait for a condition before failing; generous, for loaded machines.
const WAIT: Duration = Duration::from_secs(60);

/// `beat_process` registers a process (every field round-trips, `last_heartbeat` is the backend's);
/// `signal` reaches a live process only, and its command comes back from the next beat exactly
/// once; a process whose time to live passed is no longer listed; `worker_stopped` removes one.
pub async fn processes_register_signal_and_expire(fixture: Fixture) {
    let env = Env::new(fixture);
    let (backend, inspector) = (env.backend(), env.inspector());
    let before = env.runtime.now();
    let started_at = before.duration_trunc(TimeDelta::seconds(1)).unwrap() - TimeDelta::seconds(10);
    let info = ProcessInfo {
        id: "conformance-host:4242:0a0a".to_owned(),
        hostname: "conformance-host".to_owned(),
        pid: 4242,
        version: "jobs conformance".to_owned(),
        queues: vec!["critical".to_owned(), "default".to_owned()],
        concurrency: 5,
        busy: 2,
        started_at,
        last_heartbeat: started_at,
        state: ProcessState::Running,
    };
    assert_eq!(backend.beat_process(&info, LONG).await.unwrap(), None, "no command for a new process");
    let listed = inspector.processes().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let beat = listed[0].last_heartbeat;
    assert!(beat >= before - env.slack() && beat <= env.runtime.now() + env.slack(), "last heartbeat {beat}");
    assert_eq!(listed[0], ProcessInfo { last_heartbeat: beat, ..info.clone() }, "every field round-trips");

    assert!(!inspector.signal("no-such-process", ProcessCommand::Quiet).await.unwrap(), "an unknown process");
    assert!(inspector.signal(&info.id, ProcessCommand::Quiet).await.unwrap(), "a live process takes a signal");
    let quiet = ProcessInfo { busy: 1, state: ProcessState::Quiet, ..info.clone() };
    assert_eq!(backend.beat_process(&quiet, LONG).await.unwrap(), Some(ProcessCommand::Quiet));
    assert_eq!(backend.beat_process(&quiet, LONG).await.unwrap(), None, "a command is taken once");
    let listed = inspector.processes().await.unwrap();
    assert_eq!((listed[0].busy, listed[0].state), (1, ProcessState::Quiet), "a beat updates the entry");
    assert!(inspector.signal(&info.id, ProcessCommand::Stop).await.unwrap());
    assert_eq!(backend.beat_process(&quiet, LONG).await.unwrap(), Some(ProcessCommand::Stop));

    // A process that stops beating ages out after its time to live.
    let short = ProcessInfo { id: "conformance-host:4343:0b0b".to_owned(), pid: 4343, ..info.clone() };
    backend.beat_process(&short, Duration::from_secs(1)).await.unwrap();
    let listed = inspector.processes().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [info.id.as_str(), short.id.as_str()], "processes come by id");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        env.pass(Duration::from_millis(500)).await;
        let listed = inspector.processes().await.unwrap();
        if listed.iter().all(|p| p.id != short.id) {
            assert_eq!(listed.len(), 1, "the live process stays: {listed:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a process whose time to live passed is still listed");
    }
    assert!(!inspector.signal(&short.id, ProcessCommand::Quiet).await.unwrap(), "an expired process");

    backend.worker_stopped(&info.id).await.unwrap();
    assert_eq!(inspector.processes().await.unwrap(), vec![], "a stopped worker is no longer listed");
    assert!(!inspector.signal(&info.id, ProcessCommand::Stop).await.unwrap(), "a stopped process");
}

/// A running worker lists itself with its queues and concurrency, shows as busy while it runs a
/// job, records its processed and failed runs in the history, and leaves the list when it stops.
pub async fn worker_registers_and_records_history(fixture: Fixture) {
    let env = Env::new(fixture);
    let since = env.runtime.now().duration_trunc(TimeDelta::minutes(1)).unwrap() - TimeDelta::minutes(1);
    let queues = ["proc-a", "proc-b"];
    let worker = env.worker(&queues).lease(BEAT_LEASE).start();

    let process = wait_for_process(&env, &queues, "the worker to register", |p| p.is_some()).await.unwrap();
    assert_eq!((process.pid, process.concurrency, process.state), (std::process::id(), 4, ProcessState::Running));
    assert!(process.version.starts_with("jobs "), "version {}", process.version);
    assert!(!process.hostname.is_empty());

    env.set::<Block>().queue("proc-a").enqueue(Block { key: "busy".into(), cooperative: true }).await.unwrap();
    env.wait_for("the blocking job to start", || env.probe.started() == ["busy"]).await;
    wait_for_process(&env, &queues, "the worker to show a busy slot", |p| p.is_some_and(|p| p.busy == 1)).await;
    env.probe.open_gate();
    let failing = FailBoxed { key: "fails".into(), message_only: false };
    env.set::<FailBoxed>().queue("proc-b").enqueue(failing).await.unwrap();

    // One run of the blocking job; three failed runs (two retries, then dead).
    let expected = BTreeMap::from([
        (("proc-a".to_owned(), "Conformance::Block".to_owned()), (1, 0)),
        (("proc-b".to_owned(), "Conformance::FailBoxed".to_owned()), (3, 3)),
    ]);
    let deadline = tokio::time::Instant::now() + WAIT;
    while totals(&env, since).await != expected {
        assert!(tokio::time::Instant::now() < deadline, "history shows {:?}", totals(&env, since).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await.unwrap();
    assert_eq!(totals(&env, since).await, expected, "nothing is counted twice");
    let gone = wait_for_process(&env, &queues, "the stopped worker to leave", |p| p.is_none()).await;
    assert_eq!(gone, None);
}

/// A worker told to go quiet claims nothing more (a job enqueued afterwards stays ready) and says
/// so in its entry; told to stop, it shuts down gracefully and leaves the list.
pub async fn worker_obeys_quiet_and_stop(fixture: Fixture) {
    let env = Env::new(fixture);
    let inspector = env.inspector();
    let queues = ["quiet"];
    let worker = env.worker(&queues).lease(BEAT_LEASE).start();
    env.enqueue("quiet", Record::new("before")).await;
    env.wait_for("a job to run before the worker goes quiet", || env.probe.count("before") == 1).await;
    let process = wait_for_process(&env, &queues, "the worker to register", |p| p.is_some()).await.unwrap();

    assert!(inspector.signal(&process.id, ProcessCommand::Quiet).await.unwrap());
    let is_quiet = |p: Option<&ProcessInfo>| p.is_some_and(|p| p.state == ProcessState::Quiet);
    wait_for_process(&env, &queues, "the worker to go quiet", is_quiet).await;
    let held = env.enqueue("quiet", Record::new("after-quiet")).await;
    // Three heartbeats: time enough for a worker that still claimed to take the job.
    tokio::time::sleep(BEAT_LEASE).await;
    assert_eq!(env.probe.count("after-quiet"), 0, "a quiet worker ran a job");
    let waiting = env.find(&held).await;
    assert_eq!((waiting.state, waiting.attempts), (JobState::Ready, 0), "a quiet worker claimed a job");
    assert!(wait_for_process(&env, &queues, "the worker to stay listed", is_quiet).await.is_some());

    assert!(inspector.signal(&process.id, ProcessCommand::Stop).await.unwrap());
    wait_for_process(&env, &queues, "the stopped worker to leave", |p| p.is_none()).await;
    worker.shutdown().await.unwrap();
    assert_eq!(env.find(&held).await.state, JobState::Ready);
}

/// Waits until the process of this test process working `queues` satisfies `condition`
/// (`None`: not listed); returns it.
async fn wait_for_process(
    env: &Env,
    queues: &[&str],
    what: &str,
    condition: impl Fn(Option<&ProcessInfo>) -> bool,
) -> Option<ProcessInfo> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listed = env.inspector().processes().await.expect("processes succeeds");
        let mut ours = listed.into_iter().filter(|p| p.pid == std::process::id() && p.queues == queues);
        let process = ours.next();
        assert!(ours.next().is_none(), "one worker on {queues:?}, listed twice");
        if condition(process.as_ref()) {
            return process;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {process:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Processed and failed runs per (queue, class) in the history since `since`.
async fn totals(env: &Env, since: DateTime<Utc>) -> BTreeMap<(String, String), (u64, u64)> {
    let mut totals = BTreeMap::new();
    for point in env.inspector().history(since).await.expect("history succeeds") {
        let entry: &mut (u64, u64) = totals.entry((point.queue, point.class)).or_default();
        entry.0 += point.processed;
        entry.1 += point.failed;
    }
    totals
}
