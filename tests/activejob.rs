//! Rails interop, both directions, on payloads that a real Active Job wrote
//! (tests/fixtures/activejob; its README tells how they were made).
//!
//! Every job here is `HelloJob`, as on the Rails side, so each runtime gets an explicit registry.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, TimeZone, Utc};
use jobs::adapter::{Adapter, NewJob};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{BoxError, CustomSerializer, Error, JobData, Keywords, Registry};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[job(name = "HelloJob")]
async fn primitives(name: String, count: i64, ratio: f64, flag: bool, nothing: Option<String>, list: Vec<Value>) {
    let _ = (name, count, ratio, flag, nothing, list);
}

#[job(name = "HelloJob")]
async fn times(
    utc: DateTime<Utc>,
    offset: DateTime<FixedOffset>,
    zoned_utc: DateTime<Utc>,
    zoned_berlin: DateTime<FixedOffset>,
    date_time: DateTime<FixedOffset>,
    date: NaiveDate,
) {
    let _ = (utc, offset, zoned_utc, zoned_berlin, date_time, date);
}

#[job(name = "HelloJob")]
async fn durations(
    hour: Duration,
    ninety: Duration,
    fraction: Duration,
    two_days: Duration,
    month: TimeDelta,
    negative: TimeDelta,
) {
    let _ = (hour, ninety, fraction, two_days, month, negative);
}

#[job(name = "HelloJob")]
async fn decimals(a: Decimal, b: Decimal) {
    let _ = (a, b);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Person {
    name: String,
    count: u32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct On {
    on: NaiveDate,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Nested {
    list: Vec<On>,
}

#[job(name = "HelloJob")]
async fn hashes(
    person: Person,
    strings: HashMap<String, Value>,
    indifferent: BTreeMap<String, i64>,
    status: String,
    nested: Nested,
) {
    let _ = (person, strings, indifferent, status, nested);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Greeting {
    greeting: String,
    times: u32,
}

#[job(name = "HelloJob")]
async fn keyword_arguments(name: String, options: Keywords<Greeting>) {
    let _ = (name, options);
}

#[derive(Clone, Debug, PartialEq)]
struct User {
    id: i64,
}

/// The ids of the users that exist, and the ids the job was performed with.
#[derive(Default)]
struct Users {
    existing: Vec<i64>,
    performed: Mutex<Vec<i64>>,
}

impl GlobalId for User {
    const MODEL: &'static str = "User";

    fn model_id(&self) -> String {
        self.id.to_string()
    }

    async fn locate(id: &str, ctx: &JobContext) -> Result<Option<Self>, BoxError> {
        let id: i64 = id.parse()?;
        Ok(ctx.state::<Users>()?.existing.contains(&id).then_some(User { id }))
    }
}

#[job(name = "HelloJob")]
async fn record(user: Global<User>, users: State<Users>) {
    users.performed.lock().unwrap().push(user.id);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Money {
    cents: i64,
    currency: String,
}

impl CustomSerializer for Money {
    const NAME: &'static str = "MoneySerializer";
}

#[job(name = "HelloJob")]
async fn charge(money: Money) {
    let _ = money;
}

use common::rails::fixture;

/// The fixture's job, decoded by the Rust job of that name.
fn decode<J: Job>(name: &str) -> J {
    let data = fixture(name);
    assert_eq!(data.job_class, J::NAME);
    match J::from_arguments(data.arguments) {
        Ok(job) => job,
        Err(e) => panic!("fixture {name}: {e}"),
    }
}

fn runtime_for<J: Job>(adapter: &TestAdapter, users: Users) -> Runtime {
    let mut registry = Registry::new();
    registry.register::<J>().unwrap();
    Runtime::builder().registry(registry).adapter(adapter.clone()).app_name("myapp").state(users).build().unwrap()
}

/// Enqueues `job` from Rust and returns the payload, as Active Job will read it.
async fn enqueue<J: Job>(job: J) -> JobData {
    let adapter = TestAdapter::new();
    let runtime = runtime_for::<J>(&adapter, Users::default());
    runtime.perform_later(job).await.unwrap();
    adapter.enqueued_jobs().pop().unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn primitives_decode() {
    let job: Primitives = decode("primitives");
    assert_eq!((job.name.as_str(), job.count, job.ratio, job.flag, job.nothing), ("world", 42, 2.5, true, None));
    assert_eq!(job.list, vec![json!(1), json!("two"), json!([3.5, null])]);
}

#[test]
fn times_decode() {
    let job: Times = decode("times");
    assert_eq!(job.utc, utc(2024, 1, 2, 3, 4, 5) + TimeDelta::nanoseconds(123_456_789));
    assert_eq!(job.offset.to_rfc3339(), "2024-01-02T04:04:05+01:00");
    assert_eq!(job.zoned_utc, utc(2024, 1, 2, 3, 4, 5));
    assert_eq!(job.zoned_berlin.to_rfc3339(), "2024-01-02T03:04:05+01:00");
    assert_eq!(job.date_time.to_rfc3339(), "2024-01-02T03:04:05+02:00");
    assert_eq!(job.date, NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
}

#[test]
fn durations_decode() {
    let job: Durations = decode("durations");
    assert_eq!(
        (job.hour, job.ninety, job.fraction, job.two_days),
        (Duration::from_secs(3600), Duration::from_secs(90), Duration::from_millis(1500), Duration::from_secs(172_800))
    );
    // A month is Active Job's average month, as its `value` says.
    assert_eq!((job.month, job.negative), (TimeDelta::seconds(2_629_746), TimeDelta::minutes(-30)));
}

#[test]
fn decimals_decode_in_the_forms_of_active_job_6_1_and_7_1() {
    for name in ["decimals", "decimals_serializer"] {
        let job: Decimals = decode(name);
        assert_eq!((job.a, job.b), (Decimal::from_str("12.34").unwrap(), Decimal::from_str("-0.001").unwrap()));
    }
}

#[test]
fn hashes_decode_with_symbol_string_and_indifferent_keys() {
    let job: Hashes = decode("hashes");
    assert_eq!(job.person, Person { name: "Ada".into(), count: 1 });
    assert_eq!(job.strings, HashMap::from([("name".to_owned(), json!("Ada")), ("count".to_owned(), json!(1))]));
    assert_eq!(job.indifferent, BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)]));
    assert_eq!(job.status, "pending");
    assert_eq!(job.nested, Nested { list: vec![On { on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() }] });
}

#[test]
fn keyword_arguments_decode() {
    let job: KeywordArguments = decode("keywords");
    assert_eq!(job.name, "Ada");
    assert_eq!(job.options.0, Greeting { greeting: "hi".into(), times: 2 });
}

#[test]
fn custom_serializers_decode() {
    let job: Charge = decode("custom_serializer");
    assert_eq!(job.money, Money { cents: 1999, currency: "EUR".into() });
}

#[tokio::test]
async fn a_global_id_from_rails_loads_the_record() {
    let adapter = TestAdapter::new();
    let runtime = runtime_for::<Record>(&adapter, Users { existing: vec![42], ..Users::default() });
    adapter.enqueue(&NewJob::new(fixture("global_id")).unwrap()).await.unwrap();
    runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap();
    assert_eq!(*runtime.state::<Users>().unwrap().performed.lock().unwrap(), vec![42]);
}

#[tokio::test]
async fn a_record_deleted_since_rails_enqueued_it_is_a_deserialization_error() {
    let adapter = TestAdapter::new();
    let runtime = runtime_for::<Record>(&adapter, Users::default());
    adapter.enqueue(&NewJob::new(fixture("global_id")).unwrap()).await.unwrap();
    let err = runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    let Error::Job(failure) = err else { panic!("expected a job failure, got {err:?}") };
    assert_eq!(failure.class(), "ActiveJob::DeserializationError");
    assert_eq!(
        failure.message(),
        "cannot deserialize arguments of HelloJob: argument `user`: record not found: gid://myapp/User/42"
    );
}

/// `data` with the trace context a runtime with a trace propagator writes (under
/// `__otel_headers`, opentelemetry-ruby's key): Active Job must perform it all the same.
fn traced(data: JobData) -> JobData {
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned();
    let data = JobData { trace_headers: Some([("traceparent".to_owned(), traceparent)].into()), ..data };
    assert!(data.to_json().unwrap().contains(r#""__otel_headers":{"traceparent":"#));
    data
}

/// Each fixture decoded in Rust and enqueued again from Rust: the payloads Active Job must read.
async fn payloads_from_rust() -> Vec<(&'static str, JobData)> {
    vec![
        ("primitives", traced(enqueue(decode::<Primitives>("primitives")).await)),
        ("times", enqueue(decode::<Times>("times")).await),
        ("durations", enqueue(decode::<Durations>("durations")).await),
        ("decimals", enqueue(decode::<Decimals>("decimals")).await),
        ("decimals_serializer", enqueue(decode::<Decimals>("decimals_serializer")).await),
        ("hashes", enqueue(decode::<Hashes>("hashes")).await),
        ("keywords", enqueue(decode::<KeywordArguments>("keywords")).await),
        ("global_id", enqueue(decode::<Record>("global_id")).await),
        ("custom_serializer", enqueue(decode::<Charge>("custom_serializer")).await),
    ]
}

#[tokio::test]
async fn payloads_from_rust_keep_active_job_forms() {
    let payloads: HashMap<_, _> = payloads_from_rust().await.into_iter().collect();
    // Where Rust has the same type as Ruby, the arguments come out as Active Job wrote them.
    for name in ["primitives", "decimals_serializer", "global_id", "custom_serializer"] {
        assert_eq!(payloads[name].arguments, fixture(name).arguments, "{name}");
    }
    assert_eq!(payloads["hashes"].arguments[0], fixture("hashes").arguments[0]);
    assert_eq!(payloads["hashes"].arguments[1], fixture("hashes").arguments[1]);
    assert_eq!(payloads["keywords"].arguments, fixture("keywords").arguments);
    assert_eq!(payloads["durations"].arguments[0]["value"], json!(3600));
    // Every payload decodes again in Rust.
    assert_eq!(Durations::from_arguments(payloads["durations"].arguments.clone()).unwrap().fraction.as_millis(), 1500);
    assert_eq!(
        Times::from_arguments(payloads["times"].arguments.clone()).unwrap().date_time.offset().local_minus_utc(),
        7200
    );
}

#[tokio::test]
async fn active_job_performs_the_payloads_rust_writes() {
    if !common::rails::ruby_with(&["active_job"], "ruby-activejob", "the Active Job interop test of activejob") {
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("jobs-activejob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in payloads_from_rust().await {
        std::fs::write(dir.join(format!("{name}.json")), data.to_json().unwrap()).unwrap();
    }
    let (ok, output) = common::rails::run_script("decode.rb", &[dir.as_os_str()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "Active Job could not read what Rust wrote:\n{output}");
    assert!(output.contains("9 of 9 payloads from Rust decoded as expected"), "{output}");
}
