//! Listing: every filter field, keyset pages, and what a listed job tells about itself.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Fixture;
use crate::env::{Env, provider_id};
use crate::jobs::{FailTimes, Record};
use jobs_core::{JobFilter, JobInfo, JobState, ListParams, PendingJob};

const LEASE: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

/// `list` filters by each field of [`JobFilter`](jobs_core::JobFilter) — queue, state, class,
/// enqueued range, due range, finished before, text — and by several at once, exactly as
/// [`JobFilter::matches`](jobs_core::JobFilter::matches) says, across pages.
///
/// Time bounds are taken halfway between two groups of jobs stored a moment apart, from the times
/// the adapter reports, so that they hold whichever clock the store uses.
pub async fn list_filters_by_every_field(fixture: Fixture) {
    let env = Env::new(fixture);
    let backend = env.backend();
    let start = env.runtime.now();

    // The first group: two queues, two classes, scheduled jobs, a completed one.
    let needle = env.enqueue("filter-a", Record::new("needle-7f3a")).await;
    let plain = env.enqueue("filter-a", Record::new("plain-1")).await;
    let other_class = FailTimes { key: "other-class".into(), failures: 0 };
    let other_class = provider_id(&env.set::<FailTimes>().queue("filter-b").enqueue(other_class).await.unwrap());
    let soon = env.set::<Record>().queue("filter-b").wait(HOUR).enqueue(Record::new("soon")).await.unwrap();
    let later = env.set::<Record>().queue("filter-b").wait(3 * HOUR).enqueue(Record::new("later")).await.unwrap();
    let (soon, later) = (provider_id(&soon), provider_id(&later));
    let done_early = env.enqueue("filter-c", Record::new("done-1")).await;
    let claim = env.claim_one("filter-c", LEASE).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);

    env.pass(env.gap()).await;

    // The second group: a ready job, a dead one, a completed one.
    let plain_late = env.enqueue("filter-a", Record::new("plain-2")).await;
    let dead = env.enqueue("filter-c", Record::new("dead-1")).await;
    let claim = env.claim_one("filter-c", LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "gave up", None)]).await.unwrap(), 1);
    let done_late = env.enqueue("filter-c", Record::new("done-2")).await;
    let claim = env.claim_one("filter-c", LEASE).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    let end = env.runtime.now();

    let all = env.walk(ListParams::new()).await;
    assert_eq!(all.len(), 9, "every stored job is listed: {all:?}");
    let job = |id: &str| all.iter().find(|j| j.id == id).unwrap_or_else(|| panic!("job {id} listed")).clone();
    for info in &all {
        let at = info.enqueued_at.unwrap_or_else(|| panic!("job {} has no enqueued_at", info.id));
        assert!(at >= start - env.slack() && at <= end + env.slack(), "enqueued_at {at} outside [{start}, {end}]");
    }
    let first_group = [&needle, &plain, &other_class, &soon, &later, &done_early];
    let second_group = [&plain_late, &dead, &done_late];
    let enqueued_split = halfway(
        first_group.iter().map(|id| job(id).enqueued_at.unwrap()).max().unwrap(),
        second_group.iter().map(|id| job(id).enqueued_at.unwrap()).min().unwrap(),
    );
    let due_split = job(&soon).run_at.expect("a scheduled job has its due time") + chrono::Duration::hours(1);
    assert!(job(&later).run_at.expect("a scheduled job has its due time") > due_split);
    let finished = |id: &str| job(id).finished_at.unwrap_or_else(|| panic!("job {id} has no finished_at"));
    let finished_split = halfway(finished(&done_early), finished(&dead).min(finished(&done_late)));

    let cases: Vec<(JobFilter, Vec<&String>)> = vec![
        (JobFilter::new().queue("filter-a"), vec![&needle, &plain, &plain_late]),
        (JobFilter::new().state(JobState::Dead), vec![&dead]),
        (JobFilter::new().state(JobState::Scheduled), vec![&soon, &later]),
        (JobFilter::new().state(JobState::Completed), vec![&done_early, &done_late]),
        (JobFilter::new().class("Conformance::FailTimes"), vec![&other_class]),
        (JobFilter::new().class("Conformance::Nobody"), vec![]),
        (JobFilter::new().enqueued(Some(enqueued_split), None), second_group.to_vec()),
        (JobFilter::new().enqueued(None, Some(enqueued_split)), first_group.to_vec()),
        (JobFilter::new().run_at(Some(due_split), None), vec![&later]),
        (JobFilter::new().finished_before(finished_split), vec![&done_early]),
        (JobFilter::new().text("needle-7f3a"), vec![&needle]),
        (JobFilter::new().queue("filter-a").enqueued(None, Some(enqueued_split)), vec![&needle, &plain]),
        (
            JobFilter::new().queue("filter-c").state(JobState::Completed).finished_before(finished_split),
            vec![&done_early],
        ),
    ];
    for (filter, expected) in cases {
        let listed = env.walk(ListParams::new().filter(filter.clone()).limit(2)).await;
        let listed_ids: Vec<&str> = listed.iter().map(|j| j.id.as_str()).collect();
        let reference: Vec<&str> = all.iter().filter(|j| filter.matches(j)).map(|j| j.id.as_str()).collect();
        assert_eq!(listed_ids, reference, "{filter:?} lists what JobFilter::matches selects, in order");
        let expected: HashSet<&str> = expected.into_iter().map(String::as_str).collect();
        assert_eq!(listed_ids.iter().copied().collect::<HashSet<_>>(), expected, "{filter:?}");
    }

    // Due before a bound: the soon job, never the later one (ready jobs depend on what the
    // adapter reports as their due time, which the reference comparison covers).
    let filter = JobFilter::new().run_at(None, Some(due_split));
    let listed = env.walk(ListParams::new().filter(filter.clone())).await;
    let reference: Vec<JobInfo> = all.iter().filter(|j| filter.matches(j)).cloned().collect();
    assert_eq!(ids(&listed), ids(&reference), "{filter:?}");
    assert!(listed.iter().any(|j| j.id == soon) && !listed.iter().any(|j| j.id == later), "{filter:?}: {listed:?}");
}

/// `list` pages with a keyset cursor: walking 250 jobs by pages of 100, oldest first or newest
/// first, returns each once and in order, and stays so while jobs are added during the walk.
pub async fn list_pages_with_a_keyset_cursor(fixture: Fixture) {
    let env = Env::new(fixture);
    let inspector = env.inspector();
    let batch: Vec<PendingJob> =
        (0..250).map(|n| env.set::<Record>().queue("pages").build(Record::new(format!("page-{n:03}")))).collect();
    let stored: Vec<String> = env.runtime.perform_all_later(batch).await.unwrap().iter().map(provider_id).collect();
    env.enqueue("pages-other", Record::new("elsewhere")).await;
    let params = ListParams::new().queue("pages").limit(100);

    let first = inspector.list(&params).await.unwrap();
    assert_eq!(first.jobs.len(), 100, "a full first page");
    let second = inspector.list(&params.clone().after(first.next.clone().expect("a cursor"))).await.unwrap();
    assert_eq!(second.jobs.len(), 100, "a full second page");
    let third = inspector.list(&params.clone().after(second.next.clone().expect("a cursor"))).await.unwrap();
    assert_eq!((third.jobs.len(), third.next.clone()), (50, None), "the last page is short and has no cursor");

    let oldest_first = env.walk(params.clone()).await;
    assert_eq!(ids(&oldest_first), stored, "oldest first: each job once, in the order stored");
    let newest_first = env.walk(params.clone().newest_first()).await;
    let reversed: Vec<String> = stored.iter().rev().cloned().collect();
    assert_eq!(ids(&newest_first), reversed, "newest first: each job once, in reverse order");

    // Jobs added during a walk: each job listed once; those there at the start all listed, in order.
    for newest in [false, true] {
        let params = if newest { params.clone().newest_first() } else { params.clone() };
        let before = ids(&env.walk(params.clone()).await);
        let mut page = inspector.list(&params).await.unwrap();
        let mut walked = ids(&page.jobs);
        let mut added = 0;
        while let Some(cursor) = page.next.take() {
            for _ in 0..10 {
                env.enqueue("pages", Record::new(format!("added-{newest}-{added}"))).await;
                added += 1;
            }
            page = inspector.list(&params.clone().after(cursor)).await.unwrap();
            walked.extend(ids(&page.jobs));
        }
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), walked.len(), "a job listed twice in a walk (newest first: {newest})");
        let original: Vec<String> = walked.iter().filter(|id| before.contains(id)).cloned().collect();
        assert_eq!(original, before, "the jobs there at the start, each once and in order (newest first: {newest})");
        let now = ids(&env.walk(params.clone()).await);
        let order: Vec<String> = now.iter().filter(|id| unique.contains(id)).cloned().collect();
        assert_eq!(walked, order, "the walk follows the listing order (newest first: {newest})");
    }

    let bad = inspector.list(&params.clone().after("not a cursor")).await;
    assert!(bad.is_err(), "a cursor the adapter never gave is an error: {bad:?}");
}

/// A listed job shows its Active Job id, its class and its times: enqueued at, started at and
/// the worker running it while it runs, finished at once completed or dead.
pub async fn job_info_shows_ids_class_and_times(fixture: Fixture) {
    let env = Env::new(fixture);
    let backend = env.backend();
    let before = env.runtime.now();
    let enqueued = env.set::<Record>().queue("info").enqueue(Record::new("info-1")).await.unwrap();
    let id = provider_id(&enqueued);
    let after = env.runtime.now();

    let ready = env.find(&id).await;
    assert_eq!(ready.job_id.as_deref(), Some(enqueued.job_id.as_str()));
    assert_eq!(ready.class, "Conformance::Record");
    let enqueued_at = ready.enqueued_at.expect("a stored job has its enqueued_at");
    assert!(enqueued_at >= before - env.slack() && enqueued_at <= after + env.slack(), "enqueued_at {enqueued_at}");
    assert_eq!((ready.started_at, ready.finished_at, ready.worker_id.as_deref()), (None, None, None), "{ready:?}");

    env.pass(env.gap()).await;
    let claim_start = env.runtime.now();
    let claim = env.claim_one("info", LEASE).await;
    let running = env.find(&id).await;
    assert_eq!(running.state, JobState::Running);
    let started_at = running.started_at.expect("a running job has its started_at");
    assert!(started_at >= claim_start - env.slack() && started_at >= enqueued_at, "started_at {started_at}");
    assert_eq!(running.worker_id.as_deref(), Some("conformance"), "the claiming worker's id");
    assert_eq!(running.finished_at, None);
    assert_eq!(running.enqueued_at, Some(enqueued_at), "enqueued_at stays");

    env.pass(env.gap()).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    let done = env.find(&id).await;
    assert_eq!(done.state, JobState::Completed);
    let finished_at = done.finished_at.expect("a completed job has its finished_at");
    assert!(finished_at >= started_at, "finished_at {finished_at} before started_at {started_at}");
    assert_eq!((done.started_at, done.worker_id.as_deref()), (None, None), "only a running job has a worker");
    let listed = env.inspector().list(&ListParams::new().queue("info")).await.unwrap().jobs;
    assert_eq!(listed, vec![done], "list and find show the same job");

    let dead = env.enqueue("info", Record::new("info-2")).await;
    let claim = env.claim_one("info", LEASE).await;
    assert_eq!(backend.fail(&[env.failure(&claim.ticket, 1, "gave up", None)]).await.unwrap(), 1);
    let dead = env.find(&dead).await;
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.finished_at.is_some_and(|at| at >= started_at), "a dead job has its finished_at: {dead:?}");
    assert_eq!(dead.worker_id, None);
}

/// The time halfway between `a` and `b`, which must be apart.
pub(crate) fn halfway(a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    assert!(a < b, "the stored times {a} and {b} should be apart");
    a + (b - a) / 2
}

pub(crate) fn ids(jobs: &[JobInfo]) -> Vec<String> {
    jobs.iter().map(|j| j.id.clone()).collect()
}
