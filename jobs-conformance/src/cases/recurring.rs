//! Recurring tasks: each tick enqueued once whatever the number of schedulers, paused and removed
//! tasks silent, missed ticks caught up as the task's policy says.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::DurationRound;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use jobs_core::adapter::{NewJob, RecurringStore, TickOutcome};
use jobs_core::{Clock, JobData, ListParams, ManualClock, MissedTicks, Recurring, RecurringTasks, Runtime, Scheduler};

use crate::Fixture;
use crate::env::Env;
use crate::jobs::registry;

const TICKS: u32 = 1_000;
const QUEUE: &str = "recurring";

/// The clock the schedulers read: the fixture's, when the adapter reads one, else a clock of the
/// case's own (the store then keeps its own time for enqueues; ticks come from the schedulers).
fn scheduler_clock(env: &Env) -> ManualClock {
    env.manual().cloned().unwrap_or_else(|| ManualClock::new(Utc::now()))
}

/// A runtime of its own for one scheduler (as in another process), on the case's adapter.
fn runtime(env: &Env, clock: &ManualClock) -> Runtime {
    Runtime::builder()
        .shared_adapter(env.adapter.clone())
        .registry(registry())
        .clock(clock.clone())
        .build()
        .expect("a scheduler's runtime builds")
}

fn store(env: &Env) -> &dyn RecurringStore {
    env.adapter.recurring().expect("a storing adapter keeps recurring tasks")
}

/// The tick times of the stored jobs of `task`, one entry per job.
async fn ticks_of(env: &Env, task: &str) -> Vec<DateTime<Utc>> {
    let mut ticks = Vec::new();
    for info in env.walk(ListParams::new().queue(QUEUE).limit(500)).await {
        let data = JobData::from_json(&info.payload).expect("a recurring job's payload decodes");
        let run = data.recurring.expect("a recurring job carries its tick");
        if run.task == task {
            ticks.push(run.run_at);
        }
    }
    ticks.sort();
    ticks
}

fn every_second(key: &str) -> Recurring {
    Recurring::new(key, "* * * * * *").class("Conformance::Tick", vec![serde_json::json!(key)]).queue(QUEUE)
}

/// Three schedulers on one store, driven by a manual clock through 1,000 ticks of an
/// every-second task, all looking at every tick: exactly 1,000 jobs, one per tick, none twice,
/// none missing, each carrying its tick time; and the task's last run is the last tick.
pub async fn recurring_ticks_are_enqueued_once_across_schedulers(fixture: Fixture) {
    let env = Env::new(fixture);
    let clock = scheduler_clock(&env);
    let runtimes: Vec<Runtime> = (0..3).map(|_| runtime(&env, &clock)).collect();
    let task = every_second("every-second").to_task(&runtimes[0]).unwrap();
    let schedulers: Vec<Scheduler> =
        runtimes.iter().map(|runtime| Scheduler::new(runtime, vec![task.clone()]).unwrap()).collect();
    for scheduler in &schedulers {
        scheduler.sync(true).await.expect("sync succeeds");
    }
    for scheduler in &schedulers {
        assert!(scheduler.poll().await.unwrap().is_empty(), "no tick is due at the start");
    }
    let start = clock.now();
    for tick in 1..=TICKS {
        clock.advance(Duration::from_secs(1));
        let won: usize = join_all(schedulers.iter().map(Scheduler::poll))
            .await
            .into_iter()
            .map(|enqueued| enqueued.expect("poll succeeds").len())
            .sum();
        assert_eq!(won, 1, "tick {tick} was enqueued by {won} schedulers");
    }
    let ticks = ticks_of(&env, "every-second").await;
    assert_eq!(ticks.len(), TICKS as usize, "one job per tick");
    let distinct: BTreeSet<_> = ticks.iter().collect();
    assert_eq!(distinct.len(), ticks.len(), "a tick was enqueued twice");
    let expected: Vec<DateTime<Utc>> = (0..TICKS)
        .scan(start, |at, _| {
            *at = task_next(*at);
            Some(*at)
        })
        .collect();
    assert_eq!(ticks, expected, "every whole second in the run, none missing");
    let state = &store(&env).tasks().await.unwrap()[0];
    assert_eq!(state.last_run_at, ticks.last().copied());
    assert!(state.last_job_id.is_some());
}

fn task_next(after: DateTime<Utc>) -> DateTime<Utc> {
    jobs_core::Schedule::parse("* * * * * *", None).unwrap().next_after(after).unwrap()
}

/// `enqueue_tick` stores a tick's job once, and nothing for a paused or unknown task.
pub async fn enqueue_tick_is_once_and_only_for_active_tasks(fixture: Fixture) {
    let env = Env::new(fixture);
    let clock = scheduler_clock(&env);
    let runtime = runtime(&env, &clock);
    let task = every_second("direct").to_task(&runtime).unwrap();
    let store = store(&env);
    store.upsert_tasks(std::slice::from_ref(&task)).await.unwrap();
    let at: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().unwrap();
    let job = |i: u32| {
        let json = format!(
            r#"{{"job_class":"Conformance::Tick","job_id":"00000000-0000-4000-8000-{i:012}","queue_name":"{QUEUE}","arguments":[],"recurring":{{"task":"direct","run_at":"{}"}}}}"#,
            jobs_core::adapter::format_time(&at)
        );
        NewJob::new(JobData::from_json(&json).unwrap()).unwrap()
    };
    assert!(matches!(store.enqueue_tick("direct", at, &job(1)).await.unwrap(), TickOutcome::Enqueued(Some(_))));
    assert_eq!(store.enqueue_tick("direct", at, &job(2)).await.unwrap(), TickOutcome::Taken);
    assert_eq!(store.enqueue_tick("unknown", at, &job(3)).await.unwrap(), TickOutcome::Inactive);
    assert!(store.set_paused("direct", true).await.unwrap());
    let later = at + chrono::Duration::seconds(1);
    assert_eq!(store.enqueue_tick("direct", later, &job(4)).await.unwrap(), TickOutcome::Inactive);
    assert!(!store.set_paused("unknown", true).await.unwrap());
    assert_eq!(ticks_of(&env, "direct").await, [at], "one job stored");
    let state = &store.tasks().await.unwrap()[0];
    assert_eq!((state.paused, state.last_run_at), (true, Some(at)));
    assert_eq!(state.last_job_id.as_deref(), Some("00000000-0000-4000-8000-000000000001"));
}

/// Tasks added, changed, paused, resumed and removed at run time are seen at the next look; a
/// paused or removed task enqueues nothing; jobs already enqueued stay; a start without a static
/// task removes it and leaves dynamic ones alone.
pub async fn recurring_tasks_change_at_run_time(fixture: Fixture) {
    let env = Env::new(fixture);
    let clock = scheduler_clock(&env);
    let runtime = runtime(&env, &clock);
    let tasks = RecurringTasks::new(&runtime).unwrap();
    let static_task = every_second("static").to_task(&runtime).unwrap();
    let scheduler = Scheduler::new(&runtime, vec![static_task]).unwrap();
    scheduler.sync(true).await.unwrap();
    tasks.add(every_second("dynamic")).await.unwrap();
    assert!(tasks.add(every_second("static")).await.is_err(), "a static task is changed in its declaration");
    scheduler.poll().await.unwrap();
    let step = |seconds: u64| clock.advance(Duration::from_secs(seconds));

    step(1);
    assert_eq!(scheduler.poll().await.unwrap().len(), 2, "both tasks tick");
    assert!(tasks.pause("dynamic").await.unwrap());
    step(1);
    assert_eq!(scheduler.poll().await.unwrap().len(), 1, "the paused task is silent");
    step(5);
    scheduler.poll().await.unwrap();
    assert!(tasks.resume("dynamic").await.unwrap());
    step(1);
    scheduler.poll().await.unwrap();
    assert_eq!(ticks_of(&env, "dynamic").await.len(), 2, "resumed from its next tick, no catch-up of the pause");

    // Changed: every other second from now on.
    tasks
        .add(Recurring::new("dynamic", "*/2 * * * * *").class("Conformance::Tick", vec![]).queue(QUEUE))
        .await
        .unwrap();
    for _ in 0..4 {
        step(1);
        scheduler.poll().await.unwrap();
    }
    assert_eq!(ticks_of(&env, "dynamic").await.len(), 4, "the changed schedule ticks every other second");
    let info = tasks.get("dynamic").await.unwrap().expect("the task is listed");
    assert_eq!(info.state.task.schedule, "*/2 * * * * *");
    assert!(info.next_run_at.is_some_and(|next| next > clock.now()));

    let run = tasks.run_now("dynamic").await.unwrap();
    assert!(run.provider_job_id.is_some());
    assert_eq!(ticks_of(&env, "dynamic").await.len(), 5, "run now enqueues at once");

    assert!(tasks.remove("dynamic").await.unwrap());
    assert!(!tasks.remove("dynamic").await.unwrap());
    step(2);
    scheduler.poll().await.unwrap();
    assert_eq!(ticks_of(&env, "dynamic").await.len(), 5, "a removed task enqueues nothing; its jobs stay");

    tasks.add(every_second("dynamic-2")).await.unwrap();
    let restarted = Scheduler::new(&runtime, vec![]).unwrap();
    restarted.sync(true).await.unwrap();
    let keys: Vec<String> = tasks.list().await.unwrap().into_iter().map(|info| info.state.task.key).collect();
    assert_eq!(keys, ["dynamic-2"], "the undeclared static task is gone, the dynamic one stays");
    assert!(!ticks_of(&env, "static").await.is_empty(), "the removed static task's jobs stay");
}

/// After downtime a restarted scheduler enqueues the latest missed tick (the default), none but
/// one that is on time (`skip`), or each tick within the window, never more.
pub async fn missed_ticks_follow_the_policy(fixture: Fixture) {
    let env = Env::new(fixture);
    let clock = scheduler_clock(&env);
    let runtime = runtime(&env, &clock);
    let task = |key: &str, schedule: &str, missed: MissedTicks| {
        Recurring::new(key, schedule).class("Conformance::Tick", vec![]).queue(QUEUE).missed(missed)
    };
    let declared = vec![
        task("latest", "0 * * * *", MissedTicks::Latest).to_task(&runtime).unwrap(),
        task("skip", "0 * * * *", MissedTicks::Skip).to_task(&runtime).unwrap(),
        task("window", "* * * * *", MissedTicks::within(Duration::from_secs(600)).unwrap()).to_task(&runtime).unwrap(),
    ];
    let hour = chrono::TimeDelta::hours(1);
    let h0 = clock.now().duration_trunc(hour).unwrap() + hour;
    let at = |offset: chrono::TimeDelta| clock.set(h0 + offset);
    at(chrono::TimeDelta::seconds(-10));
    let before = Scheduler::new(&runtime, declared.clone()).unwrap();
    before.sync(true).await.unwrap();
    assert!(before.poll().await.unwrap().is_empty());
    at(chrono::TimeDelta::zero());
    assert_eq!(before.poll().await.unwrap().len(), 3, "each task ran once before the downtime");

    // Two hours and twenty minutes of downtime, then a new process.
    at(hour * 2 + chrono::TimeDelta::minutes(20));
    let after = Scheduler::new(&runtime, declared).unwrap();
    after.sync(true).await.unwrap();
    after.poll().await.unwrap();
    assert_eq!(ticks_of(&env, "latest").await, [h0, h0 + hour * 2], "one catch-up: the latest tick");
    assert_eq!(ticks_of(&env, "skip").await, [h0], "skip: a tick twenty minutes late does not run");
    let window = ticks_of(&env, "window").await;
    assert_eq!(window.len(), 1 + 10, "every tick within the ten-minute window: {window:?}");
    assert_eq!(window[1], h0 + hour * 2 + chrono::TimeDelta::minutes(11));

    at(hour * 3);
    after.poll().await.unwrap();
    assert_eq!(ticks_of(&env, "skip").await, [h0, h0 + hour * 3], "a tick on time runs");
    assert_eq!(ticks_of(&env, "latest").await.len(), 3);
}
