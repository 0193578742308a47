//! Pages from templates (minijinja, HTML auto-escaping on), and errors as answers.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobs_core::Error;
use jobs_core::adapter::redact;
use minijinja::{AutoEscape, Environment, Output, State, Value, context, escape_formatter};

use crate::guard::Ctx;
use crate::router::Shared;

/// The templates, compiled once. Every one is `.html`, so every `{{ value }}` is escaped.
#[derive(Debug)]
pub(crate) struct Templates(Environment<'static>);

const TEMPLATES: [(&str, &str); 8] = [
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("queues.html", include_str!("../templates/queues.html")),
    ("jobs.html", include_str!("../templates/jobs.html")),
    ("job.html", include_str!("../templates/job.html")),
    ("processes.html", include_str!("../templates/processes.html")),
    ("recurring.html", include_str!("../templates/recurring.html")),
];

impl Templates {
    pub(crate) fn new() -> Templates {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        env.set_formatter(html_formatter);
        for (name, source) in TEMPLATES {
            // The templates are part of the crate: a syntax error is a bug its tests catch.
            env.add_template(name, source).unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        Templates(env)
    }
}

/// Writes `value` HTML-escaped (`& < > " '`; a `/` stays readable in links), `none` as nothing,
/// and values marked safe (the chart's SVG) as they are.
fn html_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), minijinja::Error> {
    if value.is_none() {
        return Ok(());
    }
    if value.is_safe() || value.is_undefined() || !matches!(state.auto_escape(), AutoEscape::Html) {
        return escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped).map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

/// The navigation entry a page belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Nav {
    Overview,
    Queues,
    Jobs,
    Processes,
    Recurring,
}

impl Nav {
    fn as_str(self) -> &'static str {
        match self {
            Nav::Overview => "overview",
            Nav::Queues => "queues",
            Nav::Jobs => "jobs",
            Nav::Processes => "processes",
            Nav::Recurring => "recurring",
        }
    }
}

/// Renders `template` with the page's own `data` and what every page shows.
pub(crate) fn page(shared: &Shared, ctx: &Ctx, template: &str, nav: Nav, title: &str, data: Value) -> Response {
    let context = context! {
        base => ctx.base.clone(),
        // The overview: the prefix itself (axum's `nest` does not route the prefix with a `/`).
        home => if ctx.base.is_empty() { "/".to_owned() } else { ctx.base.clone() },
        csrf => ctx.csrf.clone(),
        read_only => shared.read_only,
        refresh => shared.refresh.as_secs(),
        nav => nav.as_str(),
        title => title,
        adapter => shared.adapter.name(),
        version => env!("CARGO_PKG_VERSION"),
        ..data
    };
    let rendered = shared.templates.0.get_template(template).and_then(|t| t.render(context));
    match rendered {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(target: "jobs", %error, "The dashboard could not render {template}");
            PageError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("could not render the page: {error}"))
                .into_response()
        }
    }
}

/// `data` as a template value.
pub(crate) fn value<T: serde::Serialize>(data: &T) -> Value {
    Value::from(minijinja::value::Serde(data))
}

/// A request the dashboard cannot answer with a page, and why (plain text: nothing to escape).
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into() }
    }

    /// A request with a value the dashboard cannot use.
    pub(crate) fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<Error> for PageError {
    fn from(error: Error) -> PageError {
        let status = match error {
            Error::NotSupported { .. } => StatusCode::NOT_IMPLEMENTED,
            // A value the store cannot use, such as a cursor that is not one of its own.
            Error::Config(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        };
        PageError::new(status, format!("the store answered an error: {}", redact(&error.to_string())))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body =
            format!("{} {}\n\n{}\n", self.status.as_u16(), self.status.canonical_reason().unwrap_or(""), self.message);
        (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    }
}
