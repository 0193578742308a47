//! Query strings and form bodies: repeated keys (a bulk selection), filters, times, and where
//! to go back to after an action.

use chrono::{DateTime, TimeDelta, Utc};
use jobs_core::{JobFilter, JobState};
use serde::Serialize;

/// The fields of a query string or an `application/x-www-form-urlencoded` body, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub(crate) fn query(query: Option<&str>) -> Form {
        Form::parse(query.unwrap_or_default().as_bytes())
    }

    /// The first value of `name`, if it is not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(key, v)| key == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
    }
}

/// The filters of the jobs page, as given in its query string.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Filters {
    pub(crate) state: Option<JobState>,
    pub(crate) queue: Option<String>,
    pub(crate) class: Option<String>,
    pub(crate) text: Option<String>,
    /// Enqueued at or after: a duration ago (`15m`, `2h`, `7d`) or an RFC 3339 time.
    pub(crate) since: Option<String>,
    /// Enqueued before: the same forms.
    pub(crate) until: Option<String>,
    /// `newest` or `oldest`.
    pub(crate) order: Option<String>,
}

impl Filters {
    pub(crate) fn from_form(form: &Form) -> Result<Filters, String> {
        let state = form.get("state").map(|s| s.parse::<JobState>().map_err(|e| e.to_string())).transpose()?;
        let order = form.get("order").map(str::to_owned);
        if let Some(order) = &order
            && order != "newest"
            && order != "oldest"
        {
            return Err(format!("unknown order `{order}`: use newest or oldest"));
        }
        Ok(Filters {
            state,
            queue: form.get("queue").map(str::to_owned),
            class: form.get("class").map(str::to_owned),
            text: form.get("text").map(str::to_owned),
            since: form.get("since").map(str::to_owned),
            until: form.get("until").map(str::to_owned),
            order,
        })
    }

    /// The operations API's filter, with times relative to `now`; the text filter only where
    /// arguments may be searched.
    pub(crate) fn to_filter(&self, now: DateTime<Utc>, allow_text: bool) -> Result<JobFilter, String> {
        let after = self.since.as_deref().map(|t| parse_moment(t, now)).transpose()?;
        let before = self.until.as_deref().map(|t| parse_moment(t, now)).transpose()?;
        let mut filter = JobFilter::new().enqueued(after, before);
        filter.state = self.state;
        filter.queue = self.queue.clone();
        filter.class = self.class.clone();
        if allow_text {
            filter.text = self.text.clone();
        }
        Ok(filter)
    }

    /// Newest first unless oldest first is asked for: the newest jobs are what an operator
    /// looks at first, and the end of a store is where they are found fast (oldest first, a
    /// ready backlog sits behind every completed job still kept).
    pub(crate) fn newest_first(&self) -> bool {
        self.order.as_deref() != Some("oldest")
    }

    /// The query string of these filters (without a cursor), for links and forms.
    pub(crate) fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let state = self.state.map(|s| s.as_str());
        let fields = [
            ("state", state),
            ("queue", self.queue.as_deref()),
            ("class", self.class.as_deref()),
            ("text", self.text.as_deref()),
            ("since", self.since.as_deref()),
            ("until", self.until.as_deref()),
            ("order", self.order.as_deref()),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }
}

/// `text` as a time: a duration ago (`90s`, `15m`, `2h`, `7d`, `1w`) or an RFC 3339 time.
pub(crate) fn parse_moment(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad_moment(text))?;
    let delta = match unit.trim() {
        "s" => TimeDelta::try_seconds(number),
        "m" | "min" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        "w" => TimeDelta::try_weeks(number),
        _ => None,
    };
    delta.and_then(|d| now.checked_sub_signed(d)).ok_or_else(|| bad_moment(text))
}

fn bad_moment(text: &str) -> String {
    format!("`{text}` is not a time: use a duration ago (15m, 2h, 7d) or an RFC 3339 time (2026-12-06T10:00:00Z)")
}

/// The dashboard path to go back to after an action: one of its own pages, never another site.
pub(crate) fn return_path(form: &Form, default: &str) -> String {
    form.get("return_to")
        .filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains(['\\', '\r', '\n']))
        .unwrap_or(default)
        .to_owned()
}

/// `segment` percent-encoded for one path segment (a job id in `/jobs/{id}`).
pub(crate) fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_repeated_keys() {
        let form = Form::parse(b"do=retry&id=1&id=2&id=&_csrf=abc&note=a+b%26c");
        assert_eq!(form.all("id"), ["1", "2"]);
        assert_eq!(form.get("do"), Some("retry"));
        assert_eq!(form.get("note"), Some("a b&c"));
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn moments_are_durations_ago_or_times() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_moment("15m", now).unwrap().to_rfc3339(), "2026-12-06T11:45:00+00:00");
        assert_eq!(parse_moment("2d", now).unwrap().to_rfc3339(), "2026-12-04T12:00:00+00:00");
        assert_eq!(parse_moment("2026-12-01T00:00:00Z", now).unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(parse_moment("soon", now).unwrap_err().contains("not a time"));
        assert!(parse_moment("5y", now).is_err());
    }

    #[test]
    fn filters_round_trip_through_the_query() {
        let form = Form::parse(b"state=dead&queue=mailers&text=%3Cx%3E");
        let filters = Filters::from_form(&form).unwrap();
        assert_eq!(filters.query(), "state=dead&queue=mailers&text=%3Cx%3E");
        assert!(filters.newest_first(), "newest first by default");
        assert!(!Filters::from_form(&Form::parse(b"order=oldest")).unwrap().newest_first());
        assert!(Filters::from_form(&Form::parse(b"state=lost")).is_err());
        let filter = filters.to_filter(Utc::now(), false).unwrap();
        assert_eq!(filter.text, None, "no text search where arguments are hidden");
    }

    #[test]
    fn returns_only_to_own_pages() {
        assert_eq!(return_path(&Form::parse(b"return_to=%2Fjobs%3Fstate%3Ddead"), "/"), "/jobs?state=dead");
        for evil in ["https://evil.example", "//evil.example", "/\\evil.example", "jobs"] {
            let form = Form(vec![("return_to".into(), evil.into())]);
            assert_eq!(return_path(&form, "/queues"), "/queues", "{evil}");
        }
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(path_segment("42"), "42");
        assert_eq!(path_segment("a/b c?"), "a%2Fb%20c%3F");
    }
}
