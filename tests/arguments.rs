//! Arguments through #[job]: Active Job encodings of rich types, records, and the limits.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, TimeZone, Utc};
use jobs::adapter::{Adapter, NewJob};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{BoxError, CustomSerializer, DeserializationError, Error, JobData, JobError, Keywords, ManualClock};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct ReportOptions {
    title: String,
    pages: Option<u32>,
}

/// What the jobs received, for the tests to check.
#[derive(Default)]
struct Received(Mutex<Vec<String>>);

impl Received {
    fn push(&self, what: String) {
        self.0.lock().unwrap().push(what);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[job]
#[allow(clippy::too_many_arguments)]
async fn build_report(
    at: DateTime<Utc>,
    local: DateTime<FixedOffset>,
    day: NaiveDate,
    every: Duration,
    window: Option<TimeDelta>,
    price: Decimal,
    deadlines: Vec<DateTime<Utc>>,
    tags: Vec<String>,
    options: ReportOptions,
    counts: HashMap<String, u32>,
    received: State<Received>,
) {
    received.push(format!(
        "{at:?} {local:?} {day} {every:?} {window:?} {price} {deadlines:?} {tags:?} {options:?} {:?}",
        counts.get("a")
    ));
}

fn sample_report() -> BuildReport {
    let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap() + TimeDelta::nanoseconds(5);
    BuildReport {
        at,
        local: at.with_timezone(&FixedOffset::west_opt(5 * 3600).unwrap()),
        day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        every: Duration::from_millis(90_500),
        window: Some(TimeDelta::minutes(-30)),
        price: Decimal::from_str("19.99").unwrap(),
        deadlines: vec![at],
        tags: vec!["q2".into()],
        options: ReportOptions { title: "Sales".into(), pages: None },
        counts: [("a".to_owned(), 1)].into(),
    }
}

fn runtime(adapter: &TestAdapter) -> Runtime {
    Runtime::builder()
        .adapter(adapter.clone())
        .clock(ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()))
        .app_name("shop")
        .state(Received::default())
        .state(Users(Mutex::new(vec![User { id: 7, email: "ada@example.com".into() }])))
        .build()
        .unwrap()
}

#[tokio::test]
async fn rich_types_travel_in_active_job_encodings() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    runtime.perform_later(sample_report()).await.unwrap();

    let data = adapter.enqueued_jobs().pop().unwrap();
    let seconds = json!({"_aj_serialized": "ActiveJob::Serializers::SymbolSerializer", "value": "seconds"});
    let at = json!({"_aj_serialized": "ActiveJob::Serializers::TimeWithZoneSerializer",
        "value": "2024-05-06T07:08:09.000000005Z", "time_zone": "UTC"});
    assert_eq!(
        Value::from(data.arguments),
        json!([
            at,
            {"_aj_serialized": "ActiveJob::Serializers::TimeSerializer", "value": "2024-05-06T02:08:09.000000005-05:00"},
            {"_aj_serialized": "ActiveJob::Serializers::DateSerializer", "value": "2024-02-29"},
            {"_aj_serialized": "ActiveJob::Serializers::DurationSerializer", "value": 90.5, "parts": [[seconds, 90.5]]},
            {"_aj_serialized": "ActiveJob::Serializers::DurationSerializer", "value": -1800, "parts": [[seconds, -1800]]},
            {"_aj_serialized": "ActiveJob::Serializers::BigDecimalSerializer", "value": "19.99"},
            [at],
            ["q2"],
            {"title": "Sales", "pages": null, "_aj_symbol_keys": ["title", "pages"]},
            {"a": 1, "_aj_symbol_keys": []},
        ])
    );

    // ... and come back as they were.
    runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap();
    let expected = sample_report();
    let received = runtime.state::<Received>().unwrap().all();
    assert_eq!(
        received,
        vec![format!(
            "{:?} {:?} 2024-02-29 90.5s Some(TimeDelta {{ secs: -1800, nanos: 0 }}) 19.99 {:?} [\"q2\"] {:?} Some(1)",
            expected.at, expected.local, expected.deadlines, expected.options
        )]
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Money {
    cents: i64,
    currency: String,
}

impl CustomSerializer for Money {
    const NAME: &'static str = "MoneySerializer";
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Greeting {
    greeting: String,
    times: u32,
}

#[job]
async fn charge(amount: Money, options: Keywords<Greeting>) {
    let _ = (amount, options);
}

#[tokio::test]
async fn custom_serializers_and_keyword_hashes() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    let job = Charge {
        amount: Money { cents: 1999, currency: "EUR".into() },
        options: Keywords(Greeting { greeting: "hi".into(), times: 2 }),
    };
    runtime.perform_later(job).await.unwrap();
    let data = adapter.enqueued_jobs().pop().unwrap();
    assert_eq!(
        data.arguments,
        vec![
            json!({"_aj_serialized": "MoneySerializer", "cents": 1999, "currency": "EUR"}),
            json!({"greeting": "hi", "times": 2, "_aj_ruby2_keywords": ["greeting", "times"]}),
        ]
    );
    let back = Charge::from_arguments(data.arguments).unwrap();
    assert_eq!(back.amount, Money { cents: 1999, currency: "EUR".into() });
    assert_eq!(back.options.times, 2);

    let err = Charge::from_arguments(vec![json!({"_aj_serialized": "PriceSerializer", "cents": 1}), json!({})])
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "cannot deserialize arguments of Charge: argument 0 (`amount`): expected a hash of MoneySerializer, \
         found one of \"PriceSerializer\""
    );
}

// --- records -------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct User {
    id: i64,
    email: String,
}

/// The "database" of users.
struct Users(Mutex<Vec<User>>);

impl GlobalId for User {
    const MODEL: &'static str = "User";

    fn model_id(&self) -> String {
        self.id.to_string()
    }

    async fn locate(id: &str, ctx: &JobContext) -> Result<Option<Self>, BoxError> {
        let id: i64 = id.parse()?;
        let users = ctx.state::<Users>()?;
        let found = users.0.lock().unwrap().iter().find(|u| u.id == id).cloned();
        Ok(found)
    }
}

#[job]
async fn send_welcome(user: Global<User>, cc: Option<Global<User>>, received: State<Received>) {
    received.push(format!("{} {:?}", user.email, cc.map(|u| u.email.clone())));
}

#[tokio::test]
async fn records_travel_as_global_ids_and_are_loaded_fresh() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    let stale = User { id: 7, email: "old@example.com".into() };
    runtime.scope(SendWelcome::perform_later(stale.clone().into(), Some(Global::from_id(7)))).await.unwrap();
    // The runtime's own methods use its app name, in a scope or not.
    runtime.perform_later(SendWelcome { user: Global::from_id(7), cc: None }).await.unwrap();
    runtime.perform_now(SendWelcome { user: stale.into(), cc: None }).await.unwrap();

    let enqueued = adapter.enqueued_jobs();
    let gid = json!({"_aj_globalid": "gid://shop/User/7"});
    assert_eq!(enqueued[0].arguments, vec![gid.clone(), gid.clone()]);
    assert_eq!(enqueued[1].arguments, vec![gid, Value::Null]);

    runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap();
    let received = runtime.state::<Received>().unwrap().all();
    // perform_now hands the job the record it was given; performed jobs load it fresh.
    assert_eq!(received, ["old@example.com None", "ada@example.com Some(\"ada@example.com\")", "ada@example.com None"]);
}

#[tokio::test]
async fn a_deleted_record_is_a_deserialization_error() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    runtime.scope(SendWelcome::perform_later(Global::from_id(8), None)).await.unwrap();

    let err = runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    let Error::Job(failure) = err else { panic!("expected a job failure, got {err:?}") };
    assert_eq!(failure.class(), "ActiveJob::DeserializationError");
    assert_eq!(
        failure.message(),
        "cannot deserialize arguments of SendWelcome: argument `user`: record not found: gid://shop/User/8"
    );
    // What `discard_on(DeserializationError)` matches.
    let deserialization = failure.downcast_ref::<DeserializationError>().unwrap();
    assert_eq!(deserialization.message, "argument `user`: record not found: gid://shop/User/8");

    // perform_now reports it the same way, before the job's code runs.
    let err = runtime.scope(SendWelcome::perform_now(Global::from_id(9), None)).await.unwrap_err();
    let Error::Job(failure) = err else { panic!("expected a job failure, got {err:?}") };
    assert_eq!(failure.class(), "ActiveJob::DeserializationError");
    assert_eq!(
        failure.message(),
        "cannot deserialize arguments of SendWelcome: argument `user`: record not found: gid://shop/User/9"
    );
}

#[job(discard_on(DeserializationError, with = note_discard))]
async fn send_receipt(user: Global<User>, received: State<Received>) {
    received.push(format!("receipt for {}", user.email));
}

async fn note_discard(ctx: &JobContext, error: &JobError) {
    ctx.state::<Received>().unwrap().push(format!("discarded: {}", error.message()));
}

#[tokio::test]
async fn discard_on_drops_jobs_whose_record_is_gone() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    runtime.perform_later(SendReceipt { user: Global::from_id(7) }).await.unwrap();
    runtime.perform_later(SendReceipt { user: Global::from_id(8) }).await.unwrap();
    assert_eq!(runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap(), 2);
    assert_eq!(
        runtime.state::<Received>().unwrap().all(),
        [
            "receipt for ada@example.com",
            "discarded: cannot deserialize arguments of SendReceipt: argument `user`: record not found: gid://shop/User/8"
        ]
    );
}

#[tokio::test]
async fn global_ids_of_other_apps_and_models_are_refused() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    let mut data = JobData::from_json(
        r#"{"job_class":"SendWelcome","job_id":"1","arguments":[{"_aj_globalid":"gid://blog/User/7"},null]}"#,
    )
    .unwrap();
    adapter.enqueue(&NewJob::new(data.clone()).unwrap()).await.unwrap();
    let err = runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ActiveJob::DeserializationError: cannot deserialize arguments of SendWelcome: argument `user`: \
         gid://blog/User/7 belongs to app `blog`, this runtime's app is `shop`"
    );

    data.arguments[0] = json!({"_aj_globalid": "gid://shop/Post/7"});
    let err = SendWelcome::from_arguments(data.arguments).err().unwrap();
    assert_eq!(
        err.to_string(),
        "cannot deserialize arguments of SendWelcome: argument 0 (`user`): gid://shop/Post/7 is a Post, expected a User"
    );
}

#[tokio::test]
async fn global_ids_need_an_app_name() {
    let adapter = TestAdapter::new();
    let runtime = Runtime::builder().adapter(adapter.clone()).build().unwrap();
    let err = runtime.scope(SendWelcome::perform_later(Global::from_id(7), None)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serialize argument `user` of SendWelcome: a global id needs the application's name: \
         set it with Runtime::builder().app_name(\"myapp\") (for gid://myapp/User/7)"
    );

    let err = Runtime::builder().app_name("my app").build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: app name `my app` cannot be used in global ids: use letters, digits and hyphens"
    );
}

// --- limits ----------------------------------------------------------------------------------

#[job]
async fn store_data(data: Value) {
    let _ = data;
}

#[derive(Serialize, Deserialize)]
struct Sneaky {
    #[serde(rename = "_aj_globalid")]
    id: String,
}

#[job]
async fn store_struct(sneaky: Sneaky) {
    let _ = sneaky;
}

#[job]
async fn store_times(at: HashMap<String, DateTime<Utc>>) {
    let _ = at;
}

#[tokio::test]
async fn reserved_keys_fail_at_enqueue_naming_the_key_and_the_argument() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    let err = runtime.perform_later(StoreData { data: json!({"list": [{"_aj_symbol_keys": []}]}) }).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serialize argument `data` of StoreData: `_aj_symbol_keys` is a reserved key: Active Job keeps \
         keys starting with `_aj_` for its own markers; rename it"
    );

    let job = StoreStruct { sneaky: Sneaky { id: "1".into() } };
    let err = runtime.perform_later(job).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot serialize argument `sneaky` of StoreStruct: `_aj_globalid` is a reserved key"),
        "{err}"
    );

    let job = StoreTimes { at: [("_aj_serialized".to_owned(), Utc::now())].into() };
    let err = runtime.perform_later(job).await.unwrap_err();
    assert!(
        err.to_string().starts_with("cannot serialize argument `at` of StoreTimes: `_aj_serialized` is a reserved key")
    );
    assert!(matches!(err, Error::Serialization { .. }));
    assert!(adapter.enqueued_jobs().is_empty());
}

#[derive(Serialize, Deserialize)]
struct Reading {
    sensor: String,
    samples: Vec<HashMap<String, f64>>,
}

#[job]
async fn store_readings(scale: f32, readings: Vec<Reading>, received: State<Received>) {
    let samples: Vec<_> = readings.iter().map(|r| (r.sensor.clone(), r.samples[0]["c"])).collect();
    received.push(format!("{scale} {samples:?}"));
}

#[tokio::test]
async fn non_finite_floats_fail_at_enqueue_naming_the_argument() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    let reading = |value: f64| Reading { sensor: "t1".into(), samples: vec![[("c".to_owned(), value)].into()] };

    let err = runtime.perform_later(StoreReadings { scale: 1.0, readings: vec![reading(f64::NAN)] }).await.unwrap_err();
    assert!(matches!(&err, Error::Serialization { argument, .. } if argument == "readings"), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot serialize argument `readings` of StoreReadings: NaN is not allowed in JSON (Ruby's JSON raises on \
         it too); pass a finite number, or an Option for a missing value"
    );
    let err = runtime.perform_later(StoreReadings { scale: f32::INFINITY, readings: vec![] }).await.unwrap_err();
    assert!(err.to_string().starts_with("cannot serialize argument `scale` of StoreReadings: Infinity is not"));
    let job = StoreReadings { scale: 1.0, readings: vec![reading(2.5), reading(f64::NEG_INFINITY)] };
    let err = runtime.perform_later(job).await.unwrap_err();
    assert!(err.to_string().starts_with("cannot serialize argument `readings` of StoreReadings: -Infinity is not"));
    assert!(adapter.enqueued_jobs().is_empty(), "nothing is stored");

    // Finite floats travel and come back as they were.
    runtime.perform_later(StoreReadings { scale: 0.5, readings: vec![reading(-0.25)] }).await.unwrap();
    runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap();
    assert_eq!(runtime.state::<Received>().unwrap().all(), ["0.5 [(\"t1\", -0.25)]"]);
}

#[tokio::test]
async fn oversized_payloads_fail_at_enqueue_naming_size_and_limit() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    assert_eq!(runtime.max_payload_size(), 512 * 1024);
    let err = runtime.perform_later(StoreData { data: json!("x".repeat(600_000)) }).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "payload of StoreData is 600291 bytes, over the limit of 524288 bytes: pass ids and load the data in the \
         job, or raise the limit with Runtime::builder().max_payload_size(..)"
    );
    assert!(matches!(err, Error::PayloadTooLarge { size: 600_291, limit: 524_288, .. }));

    let small = Runtime::builder().adapter(adapter.clone()).max_payload_size(300).build().unwrap();
    let err = small.perform_later(StoreData { data: json!("x".repeat(100)) }).await.unwrap_err();
    assert!(err.to_string().starts_with("payload of StoreData is "), "{err}");
    assert!(err.to_string().contains(" bytes, over the limit of 300 bytes"), "{err}");
    small.perform_later(StoreData { data: json!("x") }).await.unwrap();
    assert_eq!(adapter.enqueued_jobs().len(), 1);
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |inner, _| json!([inner]))
}

#[tokio::test]
async fn nesting_is_bounded_at_enqueue_and_at_perform() {
    let adapter = TestAdapter::new();
    let runtime = runtime(&adapter);
    runtime.perform_later(StoreData { data: nested(64) }).await.unwrap();
    let err = runtime.perform_later(StoreData { data: nested(65) }).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serialize argument `data` of StoreData: nested deeper than 64 levels of arrays and hashes \
         (the limit for job arguments)"
    );

    // A payload from elsewhere, nested 100 deep, fails when performed, as a job failure.
    adapter.clear();
    let payload = format!(r#"{{"job_class":"StoreData","job_id":"1","arguments":[{}]}}"#, nested(100));
    adapter.enqueue(&NewJob::new(JobData::from_json(&payload).unwrap()).unwrap()).await.unwrap();
    let err = runtime.scope(adapter.perform_enqueued_jobs(JobFilter::any())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ActiveJob::DeserializationError: cannot deserialize arguments of StoreData: argument 0 (`data`): nested \
         deeper than 64 levels of arrays and hashes (the limit for job arguments)"
    );
}
