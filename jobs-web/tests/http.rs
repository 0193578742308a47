//! The dashboard over HTTP, without a browser: who gets in, what an action needs, the headers
//! of every answer, escaping, redaction, read-only mode, and every page rendering.

mod support;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use jobs_core::JobState;
use jobs_core::adapter::Adapter;
use jobs_core::adapters::MemoryAdapter;
use jobs_macros::job;
use jobs_web::Dashboard;
use serde_json::json;
use support::{call, dead, enqueue, get, job};

/// A job whose arguments must never be shown.
#[job(crate = "::jobs_core", log_arguments = false)]
async fn charge_card(number: String) {
    let _ = number;
}

const XSS: &str = "<script>alert(1)</script>";

/// A memory store with a ready job whose argument is a script, a dead job, and a job of a
/// class declared `log_arguments = false`.
async fn store() -> Arc<dyn Adapter> {
    let memory: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
    dead(memory.as_ref(), "SendInvoice", "billing", json!([7]), "SMTP <b>refused</b>").await;
    enqueue(memory.as_ref(), job("Greet", "default", json!([XSS]))).await;
    enqueue(memory.as_ref(), job("ChargeCard", "payments", json!(["4242-4242-4242-4242"]))).await;
    memory
}

#[tokio::test]
async fn refuses_everyone_until_the_application_chooses() {
    let router = Dashboard::new(store().await).router();
    for path in ["/", "/queues", "/jobs", "/processes", "/recurring", "/assets/app.js"] {
        let answer = get(&router, path).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert!(answer.body.contains("Dashboard::authorize"), "says how to open it: {}", answer.body);
        assert!(answer.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    }
    let post = call(&router, "POST", "/queues", &[], "queue=default&do=pause").await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn basic_auth_lets_only_the_right_credentials_in() {
    let router = Dashboard::new(store().await).basic_auth("admin", "s3cret").router();
    let denied = get(&router, "/").await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert!(denied.headers[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic realm="));
    // admin:wrong, admin:s3cret
    let wrong = call(&router, "GET", "/", &[("authorization", "Basic YWRtaW46d3Jvbmc=")], "").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = call(&router, "GET", "/", &[("authorization", "Basic YWRtaW46czNjcmV0")], "").await;
    assert_eq!(right.status, StatusCode::OK);
    assert!(right.body.contains("Overview"));
}

#[tokio::test]
async fn a_custom_authorizer_sees_the_request() {
    let router = Dashboard::new(store().await)
        .authorize(|request| request.headers().get("x-role").is_some_and(|role| role == "ops"))
        .router();
    assert_eq!(get(&router, "/queues").await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&router, "GET", "/queues", &[("x-role", "ops")], "").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_answer_carries_a_strict_content_security_policy() {
    let router = Dashboard::new(store().await).open().router();
    for path in ["/", "/jobs", "/assets/app.css", "/no/such/page"] {
        let answer = get(&router, path).await;
        let csp = answer.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(answer.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let page = get(&router, "/").await;
    assert!(!page.body.contains("<script>") && !page.body.contains(" style="), "no inline script or style");
    assert!(page.body.contains(r#"<script src="/assets/app.js"#));
    assert_eq!(get(&router, "/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn payload_values_are_escaped() {
    let router = Dashboard::new(store().await).open().router();
    let list = get(&router, "/jobs?state=ready&class=Greet").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains(XSS), "the argument is not markup in the list");
    assert!(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", list.body);
    let id = list.body.split("data-job-id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let detail = get(&router, &format!("/jobs/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.body.contains(XSS) && detail.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let dead = get(&router, "/jobs?state=dead").await;
    assert!(dead.body.contains("SMTP &lt;b&gt;refused&lt;/b&gt;") && !dead.body.contains("<b>refused"));
    // A filter value comes back in the form, escaped too.
    let filtered = get(&router, "/jobs?queue=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E").await;
    assert!(!filtered.body.contains("<script>alert(2)"));
}

#[tokio::test]
async fn arguments_of_a_job_declared_log_arguments_false_are_redacted() {
    let memory = store().await;
    let router = Dashboard::new(memory.clone()).open().router();
    let list = get(&router, "/jobs?queue=payments").await;
    assert!(list.body.contains("ChargeCard") && list.body.contains("[redacted]"));
    assert!(!list.body.contains("4242"), "not in the list");
    let id = memory.inspector().unwrap().list(&jobs_core::ListParams::new().queue("payments")).await.unwrap().jobs[0]
        .id
        .clone();
    let detail = get(&router, &format!("/jobs/{id}")).await;
    assert!(detail.body.contains("[redacted]") && !detail.body.contains("4242"), "not on its page, payload included");
    // Other jobs show their arguments; hide_arguments hides them all and the text filter with them.
    assert!(get(&router, "/jobs?queue=billing").await.body.contains("<code>[7]</code>"));
    let hidden = Dashboard::new(memory).open().hide_arguments(true).router();
    let list = get(&hidden, "/jobs?queue=billing").await;
    assert!(list.body.contains("[redacted]") && !list.body.contains("<code>[7]</code>"));
    assert!(!list.body.contains("name=\"text\""), "no payload search when arguments are hidden");
    let searched = get(&hidden, "/jobs?text=4242").await;
    assert!(searched.body.contains("ChargeCard"), "the text filter is ignored, not applied");
}

#[tokio::test]
async fn an_action_needs_the_dashboards_token_and_its_own_site() {
    let memory = store().await;
    let router = Dashboard::new(memory.clone()).open().router();
    let page = get(&router, "/queues").await;
    let (cookie, token) = (page.cookie(), page.csrf());
    assert!(
        page.headers[header::SET_COOKIE].to_str().unwrap().contains("SameSite=Strict; HttpOnly")
            || page.headers[header::SET_COOKIE].to_str().unwrap().contains("HttpOnly; SameSite=Strict")
    );
    let form = format!("queue=default&do=pause&_csrf={token}");

    let no_cookie = call(&router, "POST", "/queues", &[("sec-fetch-site", "same-origin")], &form).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let no_token = call(&router, "POST", "/queues", &[("cookie", &cookie)], "queue=default&do=pause").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(no_token.body.contains("token"), "{}", no_token.body);
    let cross_site =
        call(&router, "POST", "/queues", &[("cookie", &cookie), ("sec-fetch-site", "cross-site")], &form).await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let other_origin = call(
        &router,
        "POST",
        "/queues",
        &[("cookie", &cookie), ("origin", "https://evil.example"), ("host", "ops.example")],
        &form,
    )
    .await;
    assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
    assert!(memory.inspector().unwrap().paused().await.unwrap().is_empty(), "no refused request acted");

    let accepted =
        call(&router, "POST", "/queues", &[("cookie", &cookie), ("sec-fetch-site", "same-origin")], &form).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(accepted.headers[header::LOCATION], "/queues?done=pause&n=1");
    assert_eq!(memory.inspector().unwrap().paused().await.unwrap(), ["default"]);
    let get_action = get(&router, "/queues?queue=default&do=resume").await;
    assert_eq!(get_action.status, StatusCode::OK, "a GET never acts");
    assert_eq!(memory.inspector().unwrap().paused().await.unwrap(), ["default"]);
}

#[tokio::test]
async fn bulk_actions_act_on_the_selected_jobs_and_go_back() {
    let memory: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
    let a = dead(memory.as_ref(), "A", "one", json!([1]), "boom").await;
    let b = dead(memory.as_ref(), "A", "two", json!([2]), "boom").await;
    let c = dead(memory.as_ref(), "A", "three", json!([3]), "boom").await;
    let d = dead(memory.as_ref(), "A", "four", json!([4]), "boom").await;
    let router = Dashboard::new(memory.clone()).open().router();
    let page = get(&router, "/jobs?state=dead").await;
    let headers = [("cookie", page.cookie()), ("sec-fetch-site", "same-origin".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let form = format!("do=retry&id={a}&id={b}&return_to=%2Fjobs%3Fstate%3Ddead&_csrf={}", page.csrf());
    let answer = call(&router, "POST", "/jobs", &headers, &form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/jobs?state=dead&done=retry&n=2");
    let inspect = memory.inspector().unwrap();
    assert_eq!(inspect.counts().await.unwrap().total(JobState::Dead), 2);
    let after = get(&router, "/jobs?state=dead&done=retry&n=2").await;
    assert!(after.body.contains("Retried 2 jobs.") && after.body.contains(&format!("data-job-id=\"{c}\"")));
    assert!(!after.body.contains(&format!("data-job-id=\"{a}\"")), "the retried job left the dead list");

    // Deleting from a job's page goes back to the list: the job's page is gone.
    let form = format!("do=delete&id={c}&return_to=%2Fjobs%2F{c}&_csrf={}", page.csrf());
    let answer = call(&router, "POST", "/jobs", &headers, &form).await;
    assert_eq!(answer.headers[header::LOCATION], "/jobs?done=delete&n=1");
    assert_eq!(get(&router, &format!("/jobs/{c}")).await.status, StatusCode::NOT_FOUND);

    // Every job matching a filter, and a return path to another site falls back to the list.
    let form = format!("do=delete&scope=filter&state=dead&return_to=https%3A%2F%2Fevil.example&_csrf={}", page.csrf());
    let answer = call(&router, "POST", "/jobs", &headers, &form).await;
    assert_eq!(answer.headers[header::LOCATION], "/jobs?done=delete&n=1", "{d} deleted");
    assert_eq!(inspect.counts().await.unwrap().total(JobState::Dead), 0);
    let empty = call(&router, "POST", "/jobs", &headers, &format!("do=retry&_csrf={}", page.csrf())).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn read_only_shows_no_action_and_refuses_every_post() {
    let memory = store().await;
    let router = Dashboard::new(memory.clone()).open().read_only(true).router();
    for path in ["/", "/queues", "/jobs?state=dead", "/processes", "/recurring"] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("method=\"post\""), "{path} offers no action");
        assert!(page.body.contains("read-only"));
    }
    let page = get(&router, "/queues").await;
    let form = format!("queue=default&do=pause&_csrf={}", page.csrf_or_cookie());
    let answer =
        call(&router, "POST", "/queues", &[("cookie", &page.cookie()), ("sec-fetch-site", "same-origin")], &form).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("read-only"));
    assert!(memory.inspector().unwrap().paused().await.unwrap().is_empty());
}

trait CookieToken {
    fn csrf_or_cookie(&self) -> String;
}

impl CookieToken for support::Answer {
    /// The token, from the cookie where the page has no form.
    fn csrf_or_cookie(&self) -> String {
        self.cookie().split_once('=').unwrap().1.to_owned()
    }
}

#[tokio::test]
async fn mounts_under_a_prefix() {
    let dashboard = Dashboard::new(store().await).open().router();
    let app = Router::new().nest("/admin/jobs", dashboard);
    let overview = get(&app, "/admin/jobs").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains("href=\"/admin/jobs/queues\"") && overview.body.contains("/admin/jobs/assets/app.css")
    );
    assert!(overview.headers[header::SET_COOKIE].to_str().unwrap().contains("Path=/admin/jobs;"));
    let queues = get(&app, "/admin/jobs/queues").await;
    assert!(queues.body.contains("action=\"/admin/jobs/queues\""));
    let headers = [("cookie", queues.cookie()), ("sec-fetch-site", "same-origin".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let form = format!("queue=default&do=pause&_csrf={}", queues.csrf());
    let answer = call(&app, "POST", "/admin/jobs/queues", &headers, &form).await;
    assert_eq!(answer.headers[header::LOCATION], "/admin/jobs/queues?done=pause&n=1");
    assert_eq!(get(&app, "/admin/jobs/assets/app.js").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_page_renders_what_the_store_holds() {
    let memory = store().await;
    let router = Dashboard::new(memory.clone()).open().router();
    let overview = get(&router, "/").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("<svg class=\"chart\""), "the chart is drawn on the server");
    assert!(overview.body.contains("billing") && overview.body.contains("payments"));
    assert_eq!(get(&router, "/?range=day").await.status, StatusCode::OK);
    assert_eq!(get(&router, "/?range=week").await.status, StatusCode::BAD_REQUEST);
    let queues = get(&router, "/queues").await;
    assert!(queues.body.contains("data-queue=\"billing\"") && queues.body.contains("data-queue=\"default\""));
    for state in JobState::ALL {
        let page = get(&router, &format!("/jobs?state={state}")).await;
        assert_eq!(page.status, StatusCode::OK, "{state}");
    }
    assert_eq!(get(&router, "/jobs?state=lost").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&router, "/jobs?since=soon").await.status, StatusCode::BAD_REQUEST);
    assert!(get(&router, "/jobs?since=1h&class=Greet").await.body.contains("Greet"));
    let dead = memory.inspector().unwrap().list(&jobs_core::ListParams::new().state(JobState::Dead)).await.unwrap();
    let detail = get(&router, &format!("/jobs/{}", dead.jobs[0].id)).await;
    assert!(detail.body.contains("SendInvoice") && detail.body.contains("RuntimeError"));
    assert!(detail.body.contains("value=\"retry\""), "a dead job can be retried");
    let by_job_id = get(&router, &format!("/jobs/{}", dead.jobs[0].job_id.as_deref().unwrap())).await;
    assert_eq!(by_job_id.status, StatusCode::OK, "found by its Active Job id too");
    assert_eq!(get(&router, "/jobs/nope").await.status, StatusCode::NOT_FOUND);
    let processes = get(&router, "/processes").await;
    assert!(processes.body.contains("No live worker process."));
}

#[tokio::test]
async fn pages_go_through_keyset_pages() {
    let memory: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
    for n in 0..7 {
        enqueue(memory.as_ref(), job("Page", "default", json!([n]))).await;
    }
    let router = Dashboard::new(memory).open().page_size(3).router();
    let mut path = "/jobs?state=ready".to_owned();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let page = get(&router, &path).await;
        seen.extend(page.body.matches("data-job-id=").map(|_| ()));
        match page.body.split("rel=\"next\"").next().and_then(|before| before.rsplit("href=\"").next()) {
            Some(href) if page.body.contains("rel=\"next\"") => {
                path = href.split('"').next().unwrap().replace("&amp;", "&")
            }
            _ => break,
        }
    }
    assert_eq!(seen.len(), 7, "three pages of 3, 3 and 1");
}

#[tokio::test]
async fn recurring_tasks_are_listed_run_paused_and_resumed() {
    use jobs_core::{Recurring, RecurringTasks, Runtime};
    let memory: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
    let runtime = Runtime::builder().shared_adapter(memory.clone()).build().unwrap();
    let tasks = RecurringTasks::new(&runtime).unwrap();
    let nightly = Recurring::new("nightly-report", "0 3 * * *").class("Report", vec![json!(XSS)]).queue("reports");
    tasks.add(nightly.description("The <b>daily</b> numbers")).await.unwrap();
    let router = Dashboard::new(memory.clone()).open().router();

    let page = get(&router, "/recurring").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-task=\"nightly-report\"") && page.body.contains("0 3 * * *"), "{}", page.body);
    assert!(page.body.contains("The &lt;b&gt;daily&lt;/b&gt; numbers"), "a description is shown as text");
    let headers = [("cookie", page.cookie()), ("sec-fetch-site", "same-origin".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();

    let run = format!("do=run_now&key=nightly-report&_csrf={}", page.csrf());
    let answer = call(&router, "POST", "/recurring", &headers, &run).await;
    assert_eq!(answer.headers[header::LOCATION], "/recurring?done=task_run&n=1");
    let counts = memory.inspector().unwrap().counts().await.unwrap();
    assert_eq!(counts.get("reports", JobState::Ready), 1, "run now enqueued the task's job");
    let last_job = tasks.get("nightly-report").await.unwrap().unwrap().state.last_job_id.expect("a last job id");
    let after = get(&router, "/recurring?done=task_run&n=1").await;
    assert!(after.body.contains("Enqueued the task"), "{}", after.body);
    assert!(after.body.contains(&last_job), "the last run links its job");

    let pause = format!("do=pause&key=nightly-report&_csrf={}", page.csrf());
    call(&router, "POST", "/recurring", &headers, &pause).await;
    assert!(tasks.get("nightly-report").await.unwrap().unwrap().state.paused);
    assert!(get(&router, "/recurring").await.body.contains("paused"));
    let resume = format!("do=resume&key=nightly-report&_csrf={}", page.csrf());
    call(&router, "POST", "/recurring", &headers, &resume).await;
    assert!(!tasks.get("nightly-report").await.unwrap().unwrap().state.paused);

    let unknown = format!("do=explode&key=nightly-report&_csrf={}", page.csrf());
    assert_eq!(call(&router, "POST", "/recurring", &headers, &unknown).await.status, StatusCode::BAD_REQUEST);
    let no_token = call(&router, "POST", "/recurring", &headers, "do=pause&key=nightly-report").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "an action without the token is refused");
}

/// A job blocked by a concurrency limit is listed under "blocked", and its page shows its
/// concurrency key with a link to the other jobs blocked on it; a redacted job's key is hidden.
#[tokio::test]
async fn blocked_jobs_show_their_concurrency_key() {
    use jobs_core::adapter::{ClaimParams, SlotOutcome, SlotParams};
    let memory: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
    for (class, key) in [
        ("SyncAccount", "SyncAccount/acct-42"),
        ("SyncAccount", "SyncAccount/acct-42"),
        ("ChargeCard", "ChargeCard/4242"),
    ] {
        let mut data = job(class, "limited", json!([key])).into_data();
        data.flow = Some(jobs_core::FlowKeys { concurrency: Some(key.to_owned()), ..Default::default() });
        enqueue(memory.as_ref(), jobs_core::adapter::NewJob::new(data).unwrap()).await;
    }
    let queues = ["limited".to_owned()];
    let params = ClaimParams { queues: &queues, limit: 3, lease: std::time::Duration::from_secs(60), worker_id: "w" };
    let claimed = memory.backend().unwrap().claim(params).await.unwrap();
    let flow = memory.flow().unwrap();
    let mut blocked = Vec::new();
    for (job, key) in claimed.iter().zip(["SyncAccount/acct-42", "SyncAccount/acct-42", "ChargeCard/4242"]) {
        let slot =
            SlotParams { ticket: &job.ticket, key, limit: 1, hold: std::time::Duration::from_secs(60), block: true };
        // The third takes its own key's slot; hold it too with a stand-in so it blocks as well.
        if flow.acquire_slot(slot).await.unwrap() == SlotOutcome::Blocked {
            blocked.push(job.ticket.id.clone());
        }
    }
    assert_eq!(blocked.len(), 1, "the second job of acct-42 blocks");
    let router = Dashboard::new(memory.clone()).open().router();
    let list = get(&router, "/jobs?state=blocked").await;
    assert!(list.body.contains(&format!("data-job-id=\"{}\"", blocked[0])), "{}", list.body);
    let detail = get(&router, &format!("/jobs/{}", blocked[0])).await;
    assert!(detail.body.contains("concurrency key") && detail.body.contains("SyncAccount/acct-42"), "{}", detail.body);
    assert!(detail.body.contains("/jobs?state=blocked&amp;text=SyncAccount%2Facct-42"), "{}", detail.body);
    let redacted = get(&router, &format!("/jobs/{}", claimed[2].ticket.id)).await;
    assert!(redacted.body.contains("concurrency key") && !redacted.body.contains("4242"), "{}", redacted.body);
}
