//! Cross-site request forgery: every action must come from the dashboard's own pages.
//!
//! Two checks, both required for a `POST`:
//! * where the browser says where the request comes from (`Sec-Fetch-Site`, else `Origin`), it
//!   must be this site;
//! * the form's `_csrf` field must equal the `jobs_csrf` cookie (`SameSite=Strict`, `HttpOnly`),
//!   a random token that a page of another site can neither read nor make the browser send.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::auth::constant_time_eq;

/// The cookie that holds the token.
pub(crate) const COOKIE: &str = "jobs_csrf";
/// The form field that echoes it.
pub(crate) const FIELD: &str = "_csrf";

/// A fresh token: 244 random bits from the operating system's generator, as hex.
pub(crate) fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The token of the request's cookie, if it has a well-formed one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that gives the browser `token` for the pages under `path`.
pub(crate) fn set_cookie(token: &str, path: &str) -> HeaderValue {
    let path = if path.is_empty() { "/" } else { path };
    let cookie = format!("{COOKIE}={token}; Path={path}; HttpOnly; SameSite=Strict");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("jobs_csrf=; Path=/"))
}

/// Why a `POST` is refused, or `None` when it may act: `form_token` is its `_csrf` field.
pub(crate) fn refuse(headers: &HeaderMap, form_token: Option<&str>) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Some("the request came from another site (Sec-Fetch-Site)");
        }
    } else if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Some("the request came from another origin (Origin)");
        }
    }
    match (cookie_token(headers), form_token) {
        (Some(cookie), Some(form)) if constant_time_eq(cookie.as_bytes(), form.as_bytes()) => None,
        (None, _) => Some("the request has no dashboard token cookie: reload the page and try again"),
        _ => Some("the form's token does not match the dashboard's: reload the page and try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (header::HeaderName::from_static(name), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn needs_the_cookie_token_echoed() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        let cookie = format!("other=1; {COOKIE}={token}");
        let same_site = headers(&[("cookie", &cookie), ("sec-fetch-site", "same-origin")]);
        assert_eq!(refuse(&same_site, Some(&token)), None);
        assert!(refuse(&same_site, Some(&new_token())).is_some());
        assert!(refuse(&same_site, None).is_some());
        assert!(refuse(&headers(&[("sec-fetch-site", "same-origin")]), Some(&token)).is_some());
    }

    #[test]
    fn refuses_other_sites() {
        let token = new_token();
        let cookie = format!("{COOKIE}={token}");
        let cross = headers(&[("cookie", &cookie), ("sec-fetch-site", "cross-site")]);
        assert!(refuse(&cross, Some(&token)).unwrap().contains("another site"));
        let other_origin = headers(&[("cookie", &cookie), ("origin", "https://evil.example"), ("host", "ops.example")]);
        assert!(refuse(&other_origin, Some(&token)).unwrap().contains("another origin"));
        let own_origin = headers(&[("cookie", &cookie), ("origin", "https://ops.example"), ("host", "ops.example")]);
        assert_eq!(refuse(&own_origin, Some(&token)), None);
    }

    #[test]
    fn ignores_malformed_cookies() {
        assert_eq!(cookie_token(&headers(&[("cookie", "jobs_csrf=short")])), None);
        assert_eq!(cookie_token(&headers(&[("cookie", &format!("jobs_csrf={}", "z".repeat(64)))])), None);
    }
}
