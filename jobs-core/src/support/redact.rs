//! Passwords out of URLs, for logs, errors and `Debug`.

/// `text` with every password in the URLs it contains replaced by `***`: the password of a
/// URL's user info (`scheme://user:password@host`), and the value of a query parameter named
/// `pass` or ending in `password` (`?password=`, `?sslpassword=`, redis' `?pass=` for Unix
/// sockets). Everything else is kept, so the result still says which server is meant; a URL
/// without a password comes back unchanged.
///
/// `text` may be a bare URL or a message that contains URLs (an error's text): a URL starts at
/// its scheme's `://` and ends at whitespace. The user info is everything before the last `@`
/// ahead of the query, so a password with an unescaped `@` or `/` is hidden too.
///
/// ```
/// use jobs_core::adapter::redact;
///
/// assert_eq!(redact("postgres://app:s3cret@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact("redis://:hunter2@cache:6379/1"), "redis://:***@cache:6379/1");
/// assert_eq!(redact("rediss://app:hunter2@cache"), "rediss://app:***@cache");
/// assert_eq!(redact("postgres://db/app?user=app&password=s3cret"), "postgres://db/app?user=app&password=***");
/// assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
/// assert_eq!(redact("no server at redis://:hunter2@cache:6379"), "no server at redis://:***@cache:6379");
/// ```
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://").map(|i| i + 3) {
        let (before, url) = rest.split_at(scheme_end);
        out.push_str(before);
        let url_end = url.find(char::is_whitespace).unwrap_or(url.len());
        redact_after_scheme(&url[..url_end], &mut out);
        rest = &url[url_end..];
    }
    out.push_str(rest);
    out
}

/// Writes `url` (what follows `scheme://`, up to whitespace) to `out` with its passwords hidden.
fn redact_after_scheme(url: &str, out: &mut String) {
    let query_start = url.find(['?', '#']).unwrap_or(url.len());
    let (location, query) = url.split_at(query_start);
    match location.rfind('@').map(|at| location.split_at(at)) {
        Some((user_info, host_on)) if user_info.contains(':') => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            out.push_str(user);
            out.push_str(":***");
            out.push_str(host_on);
        }
        _ => out.push_str(location),
    }
    let Some(query) = query.strip_prefix('?') else {
        out.push_str(query);
        return;
    };
    let (query, fragment) = query.split_at(query.find('#').unwrap_or(query.len()));
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if is_password_key(key) => {
                out.push_str(key);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out.push_str(fragment);
}

/// Query parameters that carry a password: `pass`, `password`, `sslpassword`, ...
fn is_password_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "pass" || key.ends_with("password")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn hides_the_user_info_password() {
        // The PostgreSQL adapter's cases.
        assert_eq!(redact("postgres://app:s3cret@db/app"), "postgres://app:***@db/app");
        assert_eq!(
            redact("postgresql://app:s3cret@db:5433/app?sslmode=require"),
            "postgresql://app:***@db:5433/app?sslmode=require"
        );
        // The Redis adapter's cases.
        assert_eq!(redact("redis://:hunter2@cache:6379/1"), "redis://:***@cache:6379/1");
        assert_eq!(redact("rediss://app:hunter2@cache"), "rediss://app:***@cache");
        assert_eq!(redact("redis://app:hunter2@cache:6379/1#frag"), "redis://app:***@cache:6379/1#frag");
    }

    #[test]
    fn keeps_urls_without_a_password() {
        assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
        assert_eq!(redact("redis://app@cache"), "redis://app@cache");
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redact("redis://127.0.0.1:6379/0?protocol=resp3"), "redis://127.0.0.1:6379/0?protocol=resp3");
        assert_eq!(redact("postgresql:///app?host=/var/run/postgresql"), "postgresql:///app?host=/var/run/postgresql");
        assert_eq!(redact("/var/lib/app/jobs.db"), "/var/lib/app/jobs.db");
        assert_eq!(redact(""), "");
    }

    #[test]
    fn hides_passwords_in_the_query() {
        assert_eq!(
            redact("postgres://db/app?user=app&password=s3cret&sslmode=require"),
            "postgres://db/app?user=app&password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://app:a@db/app?sslpassword=b"), "postgres://app:***@db/app?sslpassword=***");
        assert_eq!(
            redact("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(redact("redis://cache/0?Password=x#top"), "redis://cache/0?Password=***#top");
        assert_eq!(redact("redis://cache/0?passage=kept"), "redis://cache/0?passage=kept");
    }

    #[test]
    fn hides_passwords_with_unescaped_separators() {
        assert_eq!(redact("postgres://app:p@ss@db/app"), "postgres://app:***@db/app");
        assert_eq!(redact("postgres://app:p/ss@db/app"), "postgres://app:***@db/app");
        assert_eq!(redact("redis://:pässwört@cache"), "redis://:***@cache");
    }

    #[test]
    fn hides_every_url_in_a_message() {
        assert_eq!(
            redact("cannot reach redis://:a@cache:6379 (tried rediss://u:b@replica:6380/2): refused"),
            "cannot reach redis://:***@cache:6379 (tried rediss://u:***@replica:6380/2): refused"
        );
        assert_eq!(redact("connection refused (os error 111)"), "connection refused (os error 111)");
    }
}
