//! The operations API on the SQLite store: listings, job actions, queue stats, history and the
//! process registry, on a manual clock, and the migration that brings older files to it.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use jobs_core::adapter::{
    Adapter, Backend, ClaimParams, ClaimedJob, ErrorRecord, Failure, FlowStore, NewJob, SlotOutcome, SlotParams,
};
use jobs_core::{
    Clock, Error, HistoryPoint, Inspect, JobAction, JobData, JobFilter, JobInfo, JobState, ListParams, ManualClock,
    ProcessCommand, ProcessInfo, ProcessState, Target,
};
use jobs_sqlite::SqliteAdapter;

mod support;

struct Store {
    sqlite: SqliteAdapter,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(DateTime::parse_from_rfc3339("2026-12-06T12:00:30Z").unwrap().with_timezone(&Utc));
    let sqlite = SqliteAdapter::builder(dir.path().join("jobs.db")).clock(clock.clone()).open().await.unwrap();
    Store { sqlite, clock, _dir: dir }
}

/// A payload of class `class` on `queue` with argument `arg`, due at `at` (now when `None`).
fn job(class: &str, queue: &str, arg: &str, at: Option<DateTime<Utc>>) -> NewJob {
    let json = serde_json::json!({
        "job_class": class, "job_id": format!("{class}-{arg}"), "queue_name": queue, "arguments": [arg],
        "scheduled_at": at.map(|t| jobs_core::adapter::format_time(&t)),
    });
    NewJob::new(JobData::from_json(&json.to_string()).unwrap()).unwrap()
}

async fn enqueue(sqlite: &SqliteAdapter, jobs: Vec<NewJob>) -> Vec<String> {
    sqlite.enqueue_all(&jobs).await.unwrap().into_iter().map(Option::unwrap).collect()
}

async fn claim(sqlite: &SqliteAdapter, queue: &str) -> ClaimedJob {
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1, lease: Duration::from_secs(60), worker_id: "w-1" };
    sqlite.claim(params).await.unwrap().pop().expect("a job to claim")
}

async fn fail(sqlite: &SqliteAdapter, claimed: &ClaimedJob, retry_in: Option<Duration>, now: DateTime<Utc>) {
    let error = ErrorRecord { class: "Boom".into(), message: "boom".into(), attempt: claimed.attempt, at: now };
    let failure = Failure { ticket: claimed.ticket.clone(), error, retry_in, payload: None };
    assert_eq!(sqlite.fail(&[failure]).await.unwrap(), 1);
}

async fn list(sqlite: &SqliteAdapter, filter: JobFilter) -> Vec<JobInfo> {
    sqlite.list(&ListParams::new().filter(filter).limit(1000)).await.unwrap().jobs
}

fn ids(jobs: &[JobInfo]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

/// One job in each state: scheduled, ready, running, blocked (on the running job's slot),
/// retrying, dead, completed (ids in that order).
async fn every_state(store: &Store) -> Vec<String> {
    let now = store.clock.now();
    let later = Some(now + TimeDelta::hours(1));
    let s = &store.sqlite;
    let scheduled = enqueue(s, vec![job("Later", "a", "s", later)]).await;
    let mut ids = scheduled;
    let runs =
        [("Run", "running"), ("Block", "blocked"), ("Retry", "retrying"), ("Die", "dead"), ("Done", "completed")];
    for (class, arg) in runs {
        ids.extend(enqueue(s, vec![job(class, "b", arg, None)]).await);
        let claimed = claim(s, "b").await;
        let slot =
            SlotParams { ticket: &claimed.ticket, key: "k", limit: 1, hold: Duration::from_secs(60), block: true };
        match arg {
            "running" => assert_eq!(s.acquire_slot(slot).await.unwrap(), SlotOutcome::Acquired),
            "blocked" => assert_eq!(s.acquire_slot(slot).await.unwrap(), SlotOutcome::Blocked),
            "retrying" => fail(s, &claimed, Some(Duration::from_secs(600)), now).await,
            "dead" => fail(s, &claimed, None, now).await,
            _ => assert_eq!(s.complete(&[claimed.ticket]).await.unwrap(), 1),
        }
    }
    ids.insert(1, enqueue(s, vec![job("Now", "a", "ready", None)]).await.remove(0));
    ids
}

#[tokio::test]
async fn every_filter_field_selects_as_the_reference_does() {
    let store = store().await;
    let s = &store.sqlite;
    every_state(&store).await;
    for state in JobState::ALL {
        assert_eq!(list(s, JobFilter::new().state(state)).await.len(), 1, "one job {state}");
    }
    store.clock.advance(Duration::from_secs(5));
    let late = enqueue(s, vec![job("Late", "c", "needle-%_", None)]).await;
    let all = list(s, JobFilter::new()).await;
    assert_eq!(all.len(), 8);
    let now = store.clock.now();
    let filters = [
        JobFilter::new().queue("a"),
        JobFilter::new().class("Retry"),
        JobFilter::new().text("needle-%_"),
        JobFilter::new().text("NEEDLE"),
        JobFilter::new().enqueued(Some(now), None),
        JobFilter::new().enqueued(None, Some(now)),
        JobFilter::new().run_at(Some(now), None),
        JobFilter::new().run_at(None, Some(now)),
        JobFilter::new().finished_before(now),
        JobFilter::new().queue("b").class("Die").state(JobState::Dead),
    ];
    for filter in filters.into_iter().chain(JobState::ALL.map(|s| JobFilter::new().state(s))) {
        let expected: Vec<&JobInfo> = all.iter().filter(|j| filter.matches(j)).collect();
        let listed = list(s, filter.clone()).await;
        assert_eq!(listed.iter().collect::<Vec<_>>(), expected, "{filter:?}");
    }
    assert_eq!(ids(&list(s, JobFilter::new().text("needle-%_")).await), [late[0].as_str()]);
}

#[tokio::test]
async fn pages_walk_every_job_once_both_ways() {
    let store = store().await;
    let s = &store.sqlite;
    let all = enqueue(s, (0..7).map(|i| job("Page", "p", &i.to_string(), None)).collect()).await;
    enqueue(s, vec![job("Other", "q", "x", None)]).await;
    for newest_first in [false, true] {
        let mut seen = Vec::new();
        let mut params = ListParams::new().queue("p").limit(3);
        if newest_first {
            params = params.newest_first();
        }
        loop {
            let page = s.list(&params).await.unwrap();
            assert!(page.jobs.len() <= 3);
            seen.extend(page.jobs.iter().map(|j| j.id.clone()));
            match page.next {
                Some(cursor) => params = params.after(cursor),
                None => break,
            }
        }
        let mut expected = all.clone();
        if newest_first {
            expected.reverse();
        }
        assert_eq!(seen, expected, "newest first: {newest_first}");
    }
    let exact = s.list(&ListParams::new().queue("p").limit(7)).await.unwrap();
    assert_eq!((exact.jobs.len(), exact.next), (7, None), "a full last page has no next");
}

#[tokio::test]
async fn a_malformed_cursor_is_a_clear_error() {
    let store = store().await;
    let error = store.sqlite.list(&ListParams::new().after("not-a-cursor")).await.unwrap_err();
    assert!(matches!(&error, Error::Config(m) if m.contains("not-a-cursor")), "{error:?}");
}

#[tokio::test]
async fn job_info_shows_class_times_and_the_worker_while_running() {
    let store = store().await;
    let s = &store.sqlite;
    let enqueued_at = store.clock.now();
    let id = enqueue(s, vec![job("Show", "i", "1", None)]).await.remove(0);
    let info = s.find(&id).await.unwrap().unwrap();
    assert_eq!((info.class.as_str(), info.job_id.as_deref()), ("Show", Some("Show-1")));
    assert_eq!((info.enqueued_at, info.started_at, info.worker_id.as_deref()), (Some(enqueued_at), None, None));
    store.clock.advance(Duration::from_secs(3));
    let claimed = claim(s, "i").await;
    let running = s.find("Show-1").await.unwrap().unwrap();
    assert_eq!(running.state, JobState::Running);
    assert_eq!((running.started_at, running.worker_id.as_deref()), (Some(store.clock.now()), Some("w-1")));
    store.clock.advance(Duration::from_secs(2));
    s.complete(&[claimed.ticket]).await.unwrap();
    let done = s.find(&id).await.unwrap().unwrap();
    assert_eq!((done.started_at, done.worker_id, done.finished_at), (None, None, Some(store.clock.now())));
    let raw = s.enqueue_raw("i", 0, "not json").await.unwrap();
    assert_eq!(s.find(&raw).await.unwrap().unwrap().class, "");
}

#[tokio::test]
async fn actions_change_only_the_states_they_apply_to() {
    for action in JobAction::ALL {
        let store = store().await;
        let s = &store.sqlite;
        let ids = every_state(&store).await;
        let before = list(s, JobFilter::new()).await;
        let changed = s.apply(action, &Target::Ids(ids.iter().chain([&"999".to_owned()]).cloned().collect())).await;
        let expected: Vec<&JobInfo> = before.iter().filter(|j| action.applies_to(j.state)).collect();
        assert_eq!(changed.unwrap(), expected.len() as u64, "{action:?}");
        let after = list(s, JobFilter::new()).await;
        for job in &before {
            let now = after.iter().find(|j| j.id == job.id);
            if !action.applies_to(job.state) {
                assert_eq!(now, Some(job), "{action:?} leaves a {} job alone", job.state);
                continue;
            }
            match action {
                JobAction::Delete => assert_eq!(now, None),
                JobAction::Retry | JobAction::RunNow => {
                    let now = now.unwrap();
                    assert_eq!((now.state, now.errors.len()), (JobState::Ready, job.errors.len()), "{action:?}");
                }
                JobAction::Discard => {
                    let now = now.unwrap();
                    assert_eq!(now.state, JobState::Dead);
                    assert_eq!(now.finished_at, Some(store.clock.now()));
                    let error = now.errors.last().unwrap();
                    assert_eq!(
                        (error.class.as_str(), error.message.as_str()),
                        (JobAction::DISCARDED, JobAction::DISCARDED_MESSAGE)
                    );
                    assert_eq!((error.attempt, error.at), (job.attempts, store.clock.now()));
                    assert_eq!(now.errors.len(), job.errors.len() + 1);
                }
            }
        }
    }
}

#[tokio::test]
async fn actions_on_a_filter_take_only_its_jobs() {
    let store = store().await;
    let s = &store.sqlite;
    let later = Some(store.clock.now() + TimeDelta::hours(1));
    let mine = enqueue(s, vec![job("Mine", "f", "1", later), job("Mine", "f", "2", later)]).await;
    let other = enqueue(s, vec![job("Other", "f", "3", later), job("Mine", "g", "4", later)]).await;
    let filter = JobFilter::new().queue("f").class("Mine");
    assert_eq!(s.apply(JobAction::RunNow, &Target::Filter(filter.clone())).await.unwrap(), 2);
    assert_eq!(
        ids(&list(s, JobFilter::new().state(JobState::Ready)).await),
        mine.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(s.apply(JobAction::RunNow, &Target::Filter(filter.clone())).await.unwrap(), 0, "ready already");
    assert_eq!(
        s.apply(JobAction::Discard, &Target::Filter(filter.clone().state(JobState::Scheduled))).await.unwrap(),
        0
    );
    assert_eq!(s.apply(JobAction::Discard, &Target::Filter(filter)).await.unwrap(), 2);
    assert_eq!(s.apply(JobAction::Retry, &Target::Filter(JobFilter::new().state(JobState::Dead))).await.unwrap(), 2);
    assert_eq!(s.apply(JobAction::Delete, &Target::Filter(JobFilter::new().queue("g"))).await.unwrap(), 1);
    assert_eq!(ids(&list(s, JobFilter::new().state(JobState::Scheduled)).await), [other[0].as_str()]);
    assert_eq!(s.apply(JobAction::Delete, &Target::Ids(vec![])).await.unwrap(), 0);
    let purge = JobFilter::new().state(JobState::Completed).finished_before(store.clock.now());
    assert_eq!(s.apply(JobAction::Delete, &Target::Filter(purge)).await.unwrap(), 0);
}

#[tokio::test]
async fn queue_stats_count_states_measure_latency_and_list_paused_empty_queues() {
    let store = store().await;
    let s = &store.sqlite;
    every_state(&store).await;
    enqueue(s, vec![job("Now", "a", "second", None)]).await;
    s.pause("empty").await.unwrap();
    s.pause("b").await.unwrap();
    store.clock.advance(Duration::from_secs(90));
    let queues = s.queues().await.unwrap();
    assert_eq!(queues.iter().map(|q| q.queue.as_str()).collect::<Vec<_>>(), ["a", "b", "empty"]);
    let (a, b, empty) = (&queues[0], &queues[1], &queues[2]);
    assert_eq!((a.count(JobState::Ready), a.count(JobState::Scheduled), a.size()), (2, 1, 3));
    assert_eq!(a.latency, Duration::from_secs(90), "the oldest ready job's age");
    assert!(!a.paused);
    let counts = s.counts().await.unwrap();
    for state in JobState::ALL {
        assert_eq!(b.count(state), counts.get("b", state), "{state}");
    }
    assert_eq!((b.latency, b.paused), (Duration::ZERO, true));
    assert_eq!((empty.size(), empty.paused), (0, true));
}

fn point(minute: &str, queue: &str, class: &str, processed: u64, failed: u64) -> HistoryPoint {
    let minute = DateTime::parse_from_rfc3339(minute).unwrap().with_timezone(&Utc);
    HistoryPoint { minute, queue: queue.into(), class: class.into(), processed, failed }
}

#[tokio::test]
async fn history_sums_what_workers_record_and_forgets_old_minutes() {
    let store = store().await;
    let s = &store.sqlite;
    let old = point("2026-12-05T10:00:00Z", "q", "A", 9, 9);
    s.record_history(&[point("2026-12-06T12:00:00Z", "q", "A", 2, 1), old.clone()]).await.unwrap();
    let since = DateTime::parse_from_rfc3339("2026-12-05T00:00:00Z").unwrap().with_timezone(&Utc);
    assert_eq!(s.history(since).await.unwrap().len(), 1, "a minute older than the retention is dropped");
    s.record_history(&[
        point("2026-12-06T12:00:00Z", "q", "A", 3, 0),
        point("2026-12-06T12:00:00Z", "q", "B", 1, 1),
        point("2026-12-06T11:59:00Z", "r", "A", 4, 0),
    ])
    .await
    .unwrap();
    let history = s.history(since).await.unwrap();
    assert_eq!(
        history,
        [
            point("2026-12-06T11:59:00Z", "r", "A", 4, 0),
            point("2026-12-06T12:00:00Z", "q", "A", 5, 1),
            point("2026-12-06T12:00:00Z", "q", "B", 1, 1),
        ]
    );
    let recent = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
    assert_eq!(s.history(recent).await.unwrap(), history[1..]);
    let mid_minute = recent - TimeDelta::seconds(30);
    assert_eq!(s.history(mid_minute).await.unwrap(), history[1..], "a minute starting before `since` is left out");
    store.clock.advance(Duration::from_secs(26 * 3600));
    s.record_history(&[]).await.unwrap();
    assert_eq!(s.history(since).await.unwrap(), [], "pruned after the retention");
}

fn process(id: &str, state: ProcessState) -> ProcessInfo {
    ProcessInfo {
        id: id.into(),
        hostname: "host".into(),
        pid: 42,
        version: "jobs 0.1.0".into(),
        queues: vec!["a".into(), "*".into()],
        concurrency: 10,
        busy: 3,
        started_at: DateTime::parse_from_rfc3339("2026-12-06T11:00:00Z").unwrap().with_timezone(&Utc),
        last_heartbeat: DateTime::<Utc>::MIN_UTC,
        state,
    }
}

#[tokio::test]
async fn processes_register_take_commands_once_and_age_out() {
    let store = store().await;
    let s = &store.sqlite;
    let ttl = Duration::from_secs(60);
    assert_eq!(s.beat_process(&process("p1", ProcessState::Running), ttl).await.unwrap(), None);
    assert_eq!(s.beat_process(&process("p2", ProcessState::Running), ttl).await.unwrap(), None);
    let listed = s.processes().await.unwrap();
    let mut expected = process("p1", ProcessState::Running);
    expected.last_heartbeat = store.clock.now();
    assert_eq!(listed[0], expected, "stored as given, beaten on the store's clock");
    assert_eq!(listed.len(), 2);

    assert!(s.signal("p1", ProcessCommand::Quiet).await.unwrap());
    assert!(!s.signal("nobody", ProcessCommand::Stop).await.unwrap());
    let p1 = process("p1", ProcessState::Quiet);
    assert_eq!(s.beat_process(&p1, ttl).await.unwrap(), Some(ProcessCommand::Quiet));
    assert_eq!(s.beat_process(&p1, ttl).await.unwrap(), None, "a command is taken once");
    assert!(s.signal("p1", ProcessCommand::Stop).await.unwrap());
    assert!(s.signal("p1", ProcessCommand::Quiet).await.unwrap());
    assert_eq!(s.beat_process(&p1, ttl).await.unwrap(), Some(ProcessCommand::Stop), "stop is not weakened");
    assert_eq!(s.processes().await.unwrap()[0].state, ProcessState::Quiet);

    s.worker_stopped("p2").await.unwrap();
    assert_eq!(s.processes().await.unwrap().len(), 1);
    store.clock.advance(ttl);
    assert_eq!(s.processes().await.unwrap(), [], "a process not beaten within its ttl is gone");
    assert!(!s.signal("p1", ProcessCommand::Stop).await.unwrap());
}

#[tokio::test]
async fn migrating_a_version_2_file_backfills_job_classes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let pool = support::file_at(&path, 2).await;
    for payload in [r#"{"job_class":"Old","job_id":"x"}"#, "not json", r#"{"job_class":7}"#, "[1]"] {
        sqlx::query(
            "INSERT INTO jobs_jobs (queue, state, run_at, payload, enqueued_at) VALUES ('q', 'dead', 0, ?1, 0)",
        )
        .bind(payload)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let sqlite = SqliteAdapter::open(&path).await.unwrap();
    let classes: Vec<String> = list(&sqlite, JobFilter::new()).await.into_iter().map(|j| j.class).collect();
    assert_eq!(classes, ["Old", "", "", ""]);
    assert_eq!(ids(&list(&sqlite, JobFilter::new().class("Old")).await), ["1"]);
}
