//! The operations API on PostgreSQL: listings filtered in SQL agree with the reference meaning of
//! each filter, pages walk by id, actions change only the states they name and wake workers,
//! queue stats, history and the process registry as stored in the schema.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use jobs_core::adapter::{Backend, ClaimParams, ErrorRecord, Failure, FlowStore, SlotOutcome, SlotParams, Ticket};
use jobs_core::{
    ConfiguredJob, Error, HistoryPoint, Inspect, JobAction, JobFilter, JobInfo, JobState, ListParams, ProcessCommand,
    ProcessInfo, ProcessState, Target,
};
use jobs_postgres::PostgresAdapter;
use support::{Count, Seen, TestSchema, connection, runtime, wait_until, worker};

const LEASE: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

async fn claim(postgres: &PostgresAdapter, queue: &str, worker_id: &str) -> Ticket {
    let queues = [queue.to_owned()];
    let params = ClaimParams { queues: &queues, limit: 1, lease: LEASE, worker_id };
    postgres.claim(params).await.unwrap().pop().expect("a job to claim").ticket
}

async fn fail(postgres: &PostgresAdapter, ticket: Ticket, retry_in: Option<Duration>) {
    let error = ErrorRecord { class: "Boom".into(), message: "boom".into(), attempt: 1, at: Utc::now() };
    let failure = Failure { ticket, error, retry_in, payload: None };
    assert_eq!(postgres.fail(&[failure]).await.unwrap(), 1);
}

/// Jobs in every state on queue `ops` (and one ready job on `other`); returns their ids by state.
async fn every_state(postgres: &PostgresAdapter) -> Vec<(JobState, String)> {
    let seen = Arc::new(Seen::default());
    let runtime = runtime(postgres, &seen);
    let enqueue = |n: u64, wait: Option<Duration>| {
        let runtime = runtime.clone();
        async move {
            let job = ConfiguredJob::<Count>::new().runtime(&runtime).queue("ops");
            let job = match wait {
                Some(wait) => job.wait(wait),
                None => job,
            };
            job.enqueue(Count { n, millis: 0 }).await.unwrap().provider_job_id.unwrap()
        }
    };
    let scheduled = enqueue(1, Some(HOUR)).await;
    let retrying = enqueue(2, None).await;
    fail(postgres, claim(postgres, "ops", "w1").await, Some(HOUR)).await;
    let dead = enqueue(3, None).await;
    fail(postgres, claim(postgres, "ops", "w1").await, None).await;
    let completed = enqueue(4, None).await;
    assert_eq!(postgres.complete(&[claim(postgres, "ops", "w1").await]).await.unwrap(), 1);
    let running = enqueue(5, None).await;
    let holder = claim(postgres, "ops", "w-running").await;
    let slot = |ticket| SlotParams { ticket, key: "ops-key", limit: 1, hold: HOUR, block: true };
    assert_eq!(postgres.acquire_slot(slot(&holder)).await.unwrap(), SlotOutcome::Acquired);
    let blocked = enqueue(6, None).await;
    assert_eq!(postgres.acquire_slot(slot(&claim(postgres, "ops", "w1").await)).await.unwrap(), SlotOutcome::Blocked);
    let ready = enqueue(4242, None).await;
    let other = ConfiguredJob::<Count>::new().runtime(&runtime).queue("other").enqueue(Count { n: 7, millis: 0 });
    let other = other.await.unwrap().provider_job_id.unwrap();
    vec![
        (JobState::Scheduled, scheduled),
        (JobState::Ready, ready),
        (JobState::Blocked, blocked),
        (JobState::Running, running),
        (JobState::Retrying, retrying),
        (JobState::Dead, dead),
        (JobState::Completed, completed),
        (JobState::Ready, other),
    ]
}

/// Every page of `params`, walked with the cursors.
async fn walk(postgres: &PostgresAdapter, mut params: ListParams) -> Vec<JobInfo> {
    let mut jobs = Vec::new();
    loop {
        let page = postgres.list(&params).await.unwrap();
        assert!(page.jobs.len() <= params.limit);
        jobs.extend(page.jobs);
        match page.next {
            Some(next) => params = params.after(next),
            None => return jobs,
        }
    }
}

fn ids(jobs: &[JobInfo]) -> Vec<String> {
    jobs.iter().map(|job| job.id.clone()).collect()
}

#[tokio::test]
async fn listings_filter_in_sql_as_the_reference_filter_does_and_page_by_id() {
    let Some(schema) = TestSchema::new("listings_filter_in_sql_as_the_reference_filter_does_and_page_by_id").await
    else {
        return;
    };
    let postgres = schema.adapter().await;
    let states = every_state(&postgres).await;
    let raw = postgres.enqueue_raw("other", 0, "not json").await.unwrap();

    let all = walk(&postgres, ListParams::new().limit(1000)).await;
    assert_eq!(all.len(), states.len() + 1);
    for (state, id) in &states {
        let job = all.iter().find(|job| &job.id == id).unwrap();
        assert_eq!(job.state, *state, "{job:?}");
        assert_eq!(job.class, "Count");
        assert!(job.job_id.is_some() && job.enqueued_at.is_some() && job.run_at.is_some());
        assert_eq!(job.started_at.is_some(), *state == JobState::Running, "started_at only while running: {job:?}");
        assert_eq!(job.worker_id.as_deref(), (*state == JobState::Running).then_some("w-running"));
        assert_eq!(job.finished_at.is_some(), matches!(state, JobState::Dead | JobState::Completed), "{job:?}");
    }
    let unreadable = all.iter().find(|job| job.id == raw).unwrap();
    assert_eq!((unreadable.class.as_str(), unreadable.job_id.as_deref()), ("", None));

    let enqueued = all.iter().filter_map(|job| job.enqueued_at).max().unwrap();
    let soon = Utc::now() + TimeDelta::minutes(30);
    let mut filters: Vec<JobFilter> = JobState::ALL.iter().map(|s| JobFilter::new().state(*s)).collect();
    filters.extend([
        JobFilter::new(),
        JobFilter::new().queue("ops"),
        JobFilter::new().queue("other").state(JobState::Ready),
        JobFilter::new().queue("nowhere"),
        JobFilter::new().class("Count"),
        JobFilter::new().class(""),
        JobFilter::new().text("4242"),
        JobFilter::new().text("not js"),
        JobFilter::new().enqueued(Some(enqueued), None),
        JobFilter::new().enqueued(None, Some(enqueued)),
        JobFilter::new().run_at(Some(soon), None),
        JobFilter::new().run_at(None, Some(soon)).queue("ops"),
        JobFilter::new().finished_before(Utc::now() + TimeDelta::seconds(1)),
    ]);
    for filter in filters {
        let expected: Vec<String> = ids(&all.iter().filter(|job| filter.matches(job)).cloned().collect::<Vec<_>>());
        let params = ListParams::new().filter(filter.clone()).limit(2);
        assert_eq!(ids(&walk(&postgres, params.clone()).await), expected, "{filter:?}");
        let mut newest: Vec<String> = ids(&walk(&postgres, params.newest_first()).await);
        newest.reverse();
        assert_eq!(newest, expected, "newest first: {filter:?}");
    }

    // Pages are keyset pages: a job added while walking shows up once, at the end.
    let first = postgres.list(&ListParams::new().limit(3)).await.unwrap();
    let added = postgres.enqueue_raw("ops", 0, "{}").await.unwrap();
    let rest = walk(&postgres, ListParams::new().limit(3).after(first.next.unwrap())).await;
    let walked: Vec<String> = ids(&first.jobs).into_iter().chain(ids(&rest)).collect();
    assert_eq!(walked.iter().collect::<BTreeSet<_>>().len(), walked.len(), "each job once");
    assert_eq!(walked.last(), Some(&added));

    assert!(postgres.list(&ListParams::new().limit(0)).await.unwrap().jobs.is_empty());
    let error = postgres.list(&ListParams::new().after("page-2")).await.unwrap_err();
    assert!(matches!(&error, Error::Config(message) if message.contains("page-2")), "{error}");
}

#[tokio::test]
async fn scheduled_and_retrying_listings_do_not_walk_the_ready_backlog() {
    let Some(schema) = TestSchema::new("scheduled_and_retrying_listings_do_not_walk_the_ready_backlog").await else {
        return;
    };
    let postgres = schema.adapter().await;
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    // A ready backlog enqueued first, then a few jobs for later, one of which fails into a retry.
    runtime.perform_all_later((0..3000).map(|n| jobs_core::PendingJob::new(Count { n, millis: 0 }))).await.unwrap();
    for n in 0..4 {
        let job = ConfiguredJob::<Count>::new().runtime(&runtime).queue("later").wait(HOUR);
        job.enqueue(Count { n, millis: 0 }).await.unwrap();
    }
    ConfiguredJob::<Count>::new().runtime(&runtime).queue("failing").enqueue(Count { n: 9, millis: 0 }).await.unwrap();
    fail(&postgres, claim(&postgres, "failing", "w").await, Some(HOUR)).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}.jobs", schema.name)))
        .execute(&mut connection().await)
        .await
        .unwrap();

    for (state, expected) in [(JobState::Scheduled, 4), (JobState::Retrying, 1)] {
        let params = ListParams::new().state(state);
        assert_eq!(walk(&postgres, params.clone()).await.len(), expected, "{state:?}");
        let plan = postgres.explain_list(&params).await.unwrap();
        assert!(plan.contains("jobs_later"), "{state:?} read from the index of later jobs:\n{plan}");
    }
}

#[tokio::test]
async fn actions_change_only_the_states_they_name_in_one_statement() {
    let Some(schema) = TestSchema::new("actions_change_only_the_states_they_name_in_one_statement").await else {
        return;
    };
    let postgres = schema.adapter().await;
    let states = every_state(&postgres).await;
    let id_of = |state: JobState| states.iter().find(|(s, _)| *s == state).unwrap().1.clone();
    let everything = Target::Ids(states.iter().map(|(_, id)| id.clone()).chain(["x".to_owned()]).collect());
    let state_of = |id: String| {
        let postgres = postgres.clone();
        async move { postgres.find(&id).await.unwrap().map(|job| job.state) }
    };

    assert_eq!(postgres.apply(JobAction::Retry, &Target::Ids(vec![])).await.unwrap(), 0);
    assert_eq!(postgres.apply(JobAction::RunNow, &everything).await.unwrap(), 3, "scheduled, retrying and blocked");
    assert_eq!(state_of(id_of(JobState::Scheduled)).await, Some(JobState::Ready));
    assert_eq!(state_of(id_of(JobState::Retrying)).await, Some(JobState::Ready));
    assert_eq!(state_of(id_of(JobState::Blocked)).await, Some(JobState::Ready));

    let ops = Target::Filter(JobFilter::new().queue("ops"));
    assert_eq!(postgres.apply(JobAction::Discard, &ops).await.unwrap(), 4, "the ready ones of queue ops");
    let discarded = postgres.find(&id_of(JobState::Scheduled)).await.unwrap().unwrap();
    assert_eq!(discarded.state, JobState::Dead);
    assert!(discarded.finished_at.is_some());
    let error = discarded.errors.last().unwrap();
    assert_eq!((error.class.as_str(), error.message.as_str()), (JobAction::DISCARDED, JobAction::DISCARDED_MESSAGE));
    assert!((Utc::now() - error.at).abs() < TimeDelta::minutes(1), "{error:?}");
    let retried_before = postgres.find(&id_of(JobState::Retrying)).await.unwrap().unwrap();
    assert_eq!(retried_before.errors.len(), 2, "the failure, then the discard");
    assert_eq!(state_of(id_of(JobState::Running)).await, Some(JobState::Running), "running jobs are left alone");
    assert_eq!(state_of(id_of(JobState::Completed)).await, Some(JobState::Completed));

    let dead = Target::Filter(JobFilter::new().state(JobState::Dead));
    assert_eq!(postgres.apply(JobAction::Retry, &dead).await.unwrap(), 5);
    let retried = postgres.find(&id_of(JobState::Dead)).await.unwrap().unwrap();
    assert_eq!((retried.state, retried.finished_at, retried.errors.len()), (JobState::Ready, None, 1));

    assert_eq!(postgres.apply(JobAction::Delete, &everything).await.unwrap(), 7, "all but the running job");
    assert_eq!(postgres.counts().await.unwrap().total(JobState::Running), 1);
    assert_eq!(postgres.list(&ListParams::new()).await.unwrap().jobs.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_and_retry_wake_an_idle_worker() {
    let Some(schema) = TestSchema::new("run_now_and_retry_wake_an_idle_worker").await else { return };
    let postgres = schema.adapter().await;
    let seen = Arc::new(Seen::default());
    let runtime = runtime(&postgres, &seen);
    let later = ConfiguredJob::<Count>::new().runtime(&runtime).wait(HOUR).enqueue(Count { n: 1, millis: 0 });
    let later = later.await.unwrap().provider_job_id.unwrap();
    let running = worker(&runtime, Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(300)).await; // idle, listening

    let started = Instant::now();
    assert_eq!(postgres.apply(JobAction::RunNow, &Target::Ids(vec![later.clone()])).await.unwrap(), 1);
    wait_until("the job run now to run", Duration::from_secs(10), || seen.sorted() == [1]).await;
    // The worker polls every 30 s: only the NOTIFY makes it this quick.
    assert!(started.elapsed() < Duration::from_secs(5), "picked up after {:?}", started.elapsed());

    // Once its completion is written (it moved the job to jobs_completed), the job is made dead
    // behind the adapter's back: moved back into the jobs table.
    for _ in 0..500 {
        if postgres.find(&later).await.unwrap().unwrap().state == JobState::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = format!("\"{}\"", schema.name);
    let dead = format!(
        "WITH moved AS (DELETE FROM {s}.jobs_completed WHERE id = $1 RETURNING *)
         INSERT INTO {s}.jobs OVERRIDING SYSTEM VALUE SELECT * FROM moved"
    );
    let mut tx = postgres.pool().begin().await.unwrap();
    let moved = sqlx::query(sqlx::AssertSqlSafe(dead)).bind(later.parse::<i64>().unwrap()).execute(&mut *tx).await;
    assert_eq!(moved.unwrap().rows_affected(), 1, "the run's completion was written");
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {s}.jobs SET state = 'dead' WHERE id = $1")))
        .bind(later.parse::<i64>().unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let started = Instant::now();
    let dead = Target::Filter(JobFilter::new().state(JobState::Dead));
    assert_eq!(postgres.apply(JobAction::Retry, &dead).await.unwrap(), 1);
    wait_until("the retried job to run", Duration::from_secs(10), || seen.sorted() == [1, 1]).await;
    assert!(started.elapsed() < Duration::from_secs(5), "picked up after {:?}", started.elapsed());
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn queue_stats_count_states_measure_latency_and_list_paused_empty_queues() {
    let Some(schema) = TestSchema::new("queue_stats_count_states_measure_latency_and_list_paused_empty_queues").await
    else {
        return;
    };
    let postgres = schema.adapter().await;
    every_state(&postgres).await;
    postgres.pause("empty").await.unwrap();
    postgres.pause("other").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let stats = postgres.queues().await.unwrap();
    let names: Vec<&str> = stats.iter().map(|q| q.queue.as_str()).collect();
    assert_eq!(names, ["empty", "ops", "other"]);
    let (empty, ops, other) = (&stats[0], &stats[1], &stats[2]);
    assert!(empty.paused && empty.counts.is_empty() && empty.latency.is_zero());
    assert!(!ops.paused && other.paused);
    for state in JobState::ALL {
        assert_eq!(ops.count(state), 1, "{state}");
    }
    assert_eq!(ops.size(), 5);
    assert!(ops.latency >= Duration::from_millis(50) && ops.latency < Duration::from_secs(60), "{:?}", ops.latency);
    let counts = postgres.counts().await.unwrap();
    for queue in &stats {
        for state in JobState::ALL {
            assert_eq!(queue.count(state), counts.get(&queue.queue, state), "counts and queues agree");
        }
    }
}

#[tokio::test]
async fn history_sums_what_workers_record_per_minute_and_forgets_old_minutes() {
    let Some(schema) = TestSchema::new("history_sums_what_workers_record_per_minute_and_forgets_old_minutes").await
    else {
        return;
    };
    let postgres = schema.builder().maintenance_interval(Duration::ZERO).connect().await.unwrap();
    let now = Utc::now();
    let point = |minutes_ago: i64, class: &str, processed: u64, failed: u64| HistoryPoint {
        minute: now - TimeDelta::minutes(minutes_ago),
        queue: "default".into(),
        class: class.into(),
        processed,
        failed,
    };
    // Two workers, the first reporting the same key twice in one batch.
    postgres.record_history(&[point(0, "A", 2, 1), point(0, "A", 1, 0), point(0, "B", 5, 0)]).await.unwrap();
    postgres.record_history(&[point(0, "A", 4, 2), point(3, "A", 1, 1), point(26 * 60, "A", 9, 9)]).await.unwrap();
    postgres.record_history(&[]).await.unwrap();

    let recent = postgres.history(now - TimeDelta::minutes(10)).await.unwrap();
    let summary: Vec<(i64, &str, u64, u64)> =
        recent.iter().map(|p| ((now - p.minute).num_minutes(), p.class.as_str(), p.processed, p.failed)).collect();
    assert_eq!(summary, [(3, "A", 1, 1), (0, "A", 7, 3), (0, "B", 5, 0)]);
    assert!(recent.iter().all(|p| p.minute.timestamp() % 60 == 0), "minutes start at second 0");
    assert_eq!(postgres.history(now - TimeDelta::hours(27)).await.unwrap().len(), 4);

    postgres.rescue_expired().await.unwrap(); // runs the maintenance
    let kept = postgres.history(now - TimeDelta::hours(27)).await.unwrap();
    assert_eq!(kept, recent, "minutes older than the retention are pruned, the last 24 hours kept");
}

fn process(id: &str) -> ProcessInfo {
    ProcessInfo {
        id: id.into(),
        hostname: "host-1".into(),
        pid: 4321,
        version: "jobs 0.1.0".into(),
        queues: vec!["mailers".into(), "*".into()],
        concurrency: 10,
        busy: 3,
        // Whole seconds: PostgreSQL keeps microseconds.
        started_at: chrono::DateTime::from_timestamp(Utc::now().timestamp() - 300, 0).unwrap(),
        last_heartbeat: Utc::now() - TimeDelta::days(1),
        state: ProcessState::Running,
    }
}

#[tokio::test]
async fn processes_register_take_commands_once_age_out_and_leave() {
    let Some(schema) = TestSchema::new("processes_register_take_commands_once_age_out_and_leave").await else {
        return;
    };
    let postgres = schema.adapter().await;
    let (a, b) = (process("a"), process("b"));
    assert_eq!(postgres.beat_process(&a, HOUR).await.unwrap(), None);
    assert_eq!(postgres.beat_process(&b, Duration::from_millis(300)).await.unwrap(), None);

    let listed = postgres.processes().await.unwrap();
    assert_eq!(listed.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let shown = &listed[0];
    assert_eq!(ProcessInfo { last_heartbeat: a.last_heartbeat, ..shown.clone() }, a);
    assert!((Utc::now() - shown.last_heartbeat).abs() < TimeDelta::minutes(1), "the server's clock sets it");

    assert!(postgres.signal("a", ProcessCommand::Quiet).await.unwrap());
    assert!(!postgres.signal("nobody", ProcessCommand::Stop).await.unwrap());
    let quiet = ProcessInfo { state: ProcessState::Quiet, busy: 1, ..a.clone() };
    assert_eq!(postgres.beat_process(&quiet, HOUR).await.unwrap(), Some(ProcessCommand::Quiet));
    assert_eq!(postgres.beat_process(&quiet, HOUR).await.unwrap(), None, "a command is taken once");
    assert_eq!(postgres.processes().await.unwrap()[0].state, ProcessState::Quiet);
    assert!(postgres.signal("a", ProcessCommand::Stop).await.unwrap());
    assert_eq!(postgres.beat_process(&quiet, HOUR).await.unwrap(), Some(ProcessCommand::Stop));

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!postgres.signal("b", ProcessCommand::Quiet).await.unwrap(), "b is past its time to live");
    assert_eq!(postgres.processes().await.unwrap().len(), 1, "b aged out");
    let rows: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{}\".processes", schema.name)))
            .fetch_one(&mut connection().await)
            .await
            .unwrap();
    assert_eq!(rows, 1, "and its row was pruned");

    postgres.worker_stopped("a").await.unwrap();
    assert!(postgres.processes().await.unwrap().is_empty());
}

#[tokio::test]
async fn migrating_from_version_2_takes_the_class_of_stored_jobs_from_their_payloads() {
    let Some(schema) =
        TestSchema::new("migrating_from_version_2_takes_the_class_of_stored_jobs_from_their_payloads").await
    else {
        return;
    };
    let sql = jobs_postgres::migration_sql(&schema.name, 0).unwrap();
    let version_2 = format!("{}COMMIT;", &sql[..sql.find("\n-- migration 3:").expect("migration 3 is printed")]);
    let mut conn = connection().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(version_2)).execute(&mut conn).await.unwrap();
    let insert = format!(
        "INSERT INTO \"{}\".jobs (queue, state, run_at, payload) VALUES
            ('default', 'available', now(), '{{\"job_class\":\"SendInvoice\",\"arguments\":[]}}'),
            ('default', 'available', now(), 'not json'),
            ('default', 'available', now(), '[1, 2]')
         RETURNING id",
        schema.name
    );
    let stored: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(insert)).fetch_all(&mut conn).await.unwrap();

    let postgres = schema.adapter().await; // migrates to the current version
    let mut classes = Vec::new();
    for id in stored {
        classes.push(postgres.find(&id.to_string()).await.unwrap().unwrap().class);
    }
    assert_eq!(classes, ["SendInvoice", "", ""]);
    let listed = postgres.list(&ListParams::new().filter(JobFilter::new().class("SendInvoice"))).await.unwrap();
    assert_eq!(listed.jobs.len(), 1);
}
