//! Who may use the dashboard: nobody until the application says, then its closure, basic
//! credentials, or everyone.

use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// The request an [authorizer](crate::Dashboard::authorize) looks at.
pub type Request = axum::http::Request<axum::body::Body>;

type Authorizer = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The access rule the application chose.
#[derive(Clone)]
pub(crate) enum Access {
    /// Everyone.
    Open,
    /// HTTP basic credentials.
    Basic { user: String, password: String },
    /// The application's closure.
    Custom(Authorizer),
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Open => f.write_str("Open"),
            Access::Basic { user, .. } => f.debug_struct("Basic").field("user", user).finish_non_exhaustive(),
            Access::Custom(_) => f.write_str("Custom"),
        }
    }
}

const UNCONFIGURED: &str = "This jobs dashboard serves nobody yet: the application must choose who may \
use it with Dashboard::authorize(...), Dashboard::basic_auth(user, password), or Dashboard::open() \
(jobs web: --basic-auth USER:PASSWORD or --open).\n";

/// `None` when `request` may go on, else the refusal to send.
pub(crate) fn check(access: Option<&Access>, request: &Request) -> Option<Response> {
    match access {
        None => Some((StatusCode::FORBIDDEN, UNCONFIGURED).into_response()),
        Some(Access::Open) => None,
        Some(Access::Custom(authorize)) => (!authorize(request))
            .then(|| (StatusCode::FORBIDDEN, "Forbidden: not allowed to use the jobs dashboard\n").into_response()),
        Some(Access::Basic { user, password }) => {
            let given = request.headers().get(header::AUTHORIZATION).and_then(|v| basic_credentials(v.as_bytes()));
            let allowed = given.is_some_and(|(u, p)| {
                constant_time_eq(u.as_bytes(), user.as_bytes()) & constant_time_eq(p.as_bytes(), password.as_bytes())
            });
            (!allowed).then(|| {
                let mut response =
                    (StatusCode::UNAUTHORIZED, "Unauthorized: the jobs dashboard needs credentials\n").into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"jobs\", charset=\"UTF-8\""),
                );
                response
            })
        }
    }
}

/// The user and password of an `Authorization: Basic ...` header value.
fn basic_credentials(value: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Whether `a == b`, taking the same time whatever bytes differ (the length may leak).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_credentials() {
        // "admin:s3:cret" in base64: the password may contain colons.
        assert_eq!(basic_credentials(b"Basic YWRtaW46czM6Y3JldA=="), Some(("admin".into(), "s3:cret".into())));
        assert_eq!(basic_credentials(b"basic YWRtaW46czM6Y3JldA=="), Some(("admin".into(), "s3:cret".into())));
        assert_eq!(basic_credentials(b"Bearer YWRtaW46czM6Y3JldA=="), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        assert_eq!(basic_credentials(b"Basic YWRtaW4="), None, "no colon: no password");
    }

    #[test]
    fn compares_whole_values() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(constant_time_eq(b"", b""));
    }
}
