//! What every request goes through: access, read-only and CSRF checks for actions, the
//! dashboard's token cookie, and the security headers of every response.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{self, Request};
use crate::csrf;
use crate::params::Form;
use crate::router::Shared;

/// The largest form an action may send (a bulk selection of a page of ids fits many times over).
const MAX_FORM: usize = 256 * 1024;

/// Scripts and styles only from the dashboard itself, nothing inline, no frames, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the request is within the application, for links and the cookie's path.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    /// The prefix the dashboard is mounted under (`/admin/jobs`), empty at the root.
    pub(crate) base: String,
    /// The CSRF token the pages put in their forms.
    pub(crate) csrf: String,
}

/// The middleware around every route.
pub(crate) async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let base = base_path(&request);
    if let Some(refusal) = auth::check(shared.access.as_ref(), &request) {
        return secured(refusal);
    }
    let existing = csrf::cookie_token(request.headers());
    let token = existing.clone().unwrap_or_else(csrf::new_token);
    let mut request = request;
    if request.method() == Method::POST {
        if shared.read_only {
            return secured((StatusCode::FORBIDDEN, "Forbidden: this jobs dashboard is read-only\n").into_response());
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
            return secured((StatusCode::PAYLOAD_TOO_LARGE, "the form is too large\n").into_response());
        };
        let form = Form::parse(&bytes);
        if let Some(why) = csrf::refuse(&parts.headers, form.get(csrf::FIELD)) {
            return secured((StatusCode::FORBIDDEN, format!("Forbidden: {why}\n")).into_response());
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let cookie_path = if base.is_empty() { "/".to_owned() } else { base.clone() };
    request.extensions_mut().insert(Ctx { base, csrf: token.clone() });
    let mut response = next.run(request).await;
    if existing.is_none() {
        response.headers_mut().append(header::SET_COOKIE, csrf::set_cookie(&token, &cookie_path));
    }
    secured(response)
}

/// `response` with the security headers every answer carries.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    response
}

/// The prefix the dashboard is nested under: the original path minus the path the router sees.
fn base_path(request: &Request) -> String {
    let inner = request.uri().path();
    let Some(OriginalUri(original)) = request.extensions().get::<OriginalUri>() else { return String::new() };
    let original = original.path();
    let base = if inner == "/" { original.trim_end_matches('/') } else { original.strip_suffix(inner).unwrap_or("") };
    base.to_owned()
}

#[cfg(test)]
mod tests {
    use axum::http::Uri;

    use super::*;

    fn base_of(original: &str, inner: &str) -> String {
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = inner.parse::<Uri>().unwrap();
        request.extensions_mut().insert(OriginalUri(original.parse().unwrap()));
        base_path(&request)
    }

    #[test]
    fn finds_the_prefix_it_is_mounted_under() {
        assert_eq!(base_of("/admin/jobs/queues", "/queues"), "/admin/jobs");
        assert_eq!(base_of("/admin/jobs", "/"), "/admin/jobs");
        assert_eq!(base_of("/admin/jobs/", "/"), "/admin/jobs");
        assert_eq!(base_of("/queues", "/queues"), "");
        assert_eq!(base_of("/", "/"), "");
        assert_eq!(base_of("/admin/jobs/jobs/12?state=dead", "/jobs/12?state=dead"), "/admin/jobs");
    }
}
