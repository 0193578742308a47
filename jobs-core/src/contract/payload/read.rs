//! Reading a payload without serde's generic machinery: every run of every job decodes one, so
//! the common form is read here directly, top-level keys matched as bytes and plain strings,
//! numbers and nulls read where they lie. Values this reader does not read itself (arguments,
//! maps, a string with escapes, the optional keys) are handed to serde_json one value at a time.
//!
//! It answers `None` at anything it does not expect, duplicate keys and malformed JSON included,
//! and [`JobData::from_json`] then decodes the whole payload with serde as before: the same
//! payloads decode to the same `JobData`, and errors read the same.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::{JobData, default_locale, default_queue, parse_time};
use crate::contract::propagation::{TraceHeaders, lenient_headers};

/// Reads a payload, or `None` for serde to read.
pub(super) fn read(json: &str) -> Option<JobData> {
    let mut reader = Reader { json, at: 0 };
    let mut seen = Seen(0);
    let mut data = JobData {
        job_class: String::new(),
        job_id: String::new(),
        provider_job_id: None,
        queue_name: String::new(),
        priority: None,
        arguments: Vec::new(),
        executions: 0,
        exception_executions: BTreeMap::new(),
        locale: String::new(),
        timezone: None,
        enqueued_at: None,
        scheduled_at: None,
        continuation: None,
        resumptions: None,
        recurring: None,
        trace_headers: None,
        flow: None,
    };
    // `queue_name` and `locale` have defaults for when they are absent (or, for the locale, null).
    let (mut queue_name, mut locale) = (None, None);
    reader.eat(b'{')?;
    if reader.peek()? != b'}' {
        // The key expected next: the one after the last, in the order this crate writes them.
        let mut next = 0;
        loop {
            let key = reader.key(next)?;
            reader.eat(b':')?;
            if let Some(key) = key {
                seen.first(key)?;
                next = key + 1;
            }
            match key.map(|key| KEYS[key].1) {
                Some(Field::JobClass) => data.job_class = reader.string()?,
                Some(Field::JobId) => data.job_id = reader.string()?,
                Some(Field::ProviderJobId) => data.provider_job_id = reader.nullable(Reader::string)?,
                Some(Field::QueueName) => queue_name = Some(reader.string()?),
                Some(Field::Priority) => data.priority = reader.nullable(Reader::int)?,
                Some(Field::Arguments) => data.arguments = reader.arguments()?,
                Some(Field::Executions) => data.executions = u32::try_from(reader.uint()?).ok()?,
                Some(Field::ExceptionExecutions) => data.exception_executions = reader.counts()?,
                Some(Field::Locale) => locale = reader.nullable(Reader::string)?,
                Some(Field::Timezone) => data.timezone = reader.nullable(Reader::string)?,
                Some(Field::EnqueuedAt) => data.enqueued_at = reader.nullable(Reader::time)?,
                Some(Field::ScheduledAt) => data.scheduled_at = reader.nullable(Reader::time)?,
                Some(Field::Continuation) => data.continuation = reader.value()?,
                Some(Field::Resumptions) => data.resumptions = reader.value()?,
                Some(Field::Recurring) => data.recurring = reader.value()?,
                Some(Field::TraceHeaders) => data.trace_headers = reader.value::<Lenient>()?.0,
                Some(Field::Flow) => data.flow = reader.value()?,
                _ => reader.value::<IgnoredAny>().map(drop)?,
            }
            match reader.peek()? {
                b',' => reader.at += 1,
                b'}' => break,
                _ => return None,
            }
        }
    }
    reader.at += 1;
    reader.skip_whitespace();
    // Nothing after the object, and the two keys without a default.
    if reader.at != json.len() || !seen.has(0) || !seen.has(1) {
        return None;
    }
    data.queue_name = queue_name.unwrap_or_else(default_queue);
    data.locale = locale.unwrap_or_else(default_locale);
    Some(data)
}

/// The keys this reader knows, in the order [`JobData`] writes them; a key's place is its bit
/// in [`Seen`].
const KEYS: [(&str, Field); 17] = [
    ("job_class", Field::JobClass),
    ("job_id", Field::JobId),
    ("provider_job_id", Field::ProviderJobId),
    ("queue_name", Field::QueueName),
    ("priority", Field::Priority),
    ("arguments", Field::Arguments),
    ("executions", Field::Executions),
    ("exception_executions", Field::ExceptionExecutions),
    ("locale", Field::Locale),
    ("timezone", Field::Timezone),
    ("enqueued_at", Field::EnqueuedAt),
    ("scheduled_at", Field::ScheduledAt),
    ("continuation", Field::Continuation),
    ("resumptions", Field::Resumptions),
    ("recurring", Field::Recurring),
    ("__otel_headers", Field::TraceHeaders),
    ("flow", Field::Flow),
];

/// The field a known key holds.
#[derive(Clone, Copy)]
enum Field {
    JobClass,
    JobId,
    ProviderJobId,
    QueueName,
    Priority,
    Arguments,
    Executions,
    ExceptionExecutions,
    Locale,
    Timezone,
    EnqueuedAt,
    ScheduledAt,
    Continuation,
    Resumptions,
    Recurring,
    TraceHeaders,
    Flow,
}

/// The known keys read so far, one bit each: a key twice is serde's error to report.
struct Seen(u32);

impl Seen {
    fn first(&mut self, bit: usize) -> Option<()> {
        let first = !self.has(bit);
        self.0 |= 1 << bit;
        first.then_some(())
    }

    fn has(&self, bit: usize) -> bool {
        self.0 & (1 << bit) != 0
    }
}

/// `__otel_headers` as [`JobData`] reads it.
#[derive(Deserialize)]
#[serde(transparent)]
struct Lenient(#[serde(deserialize_with = "lenient_headers")] Option<TraceHeaders>);

/// Where the first `"`, `\\` or control character of `bytes` is, eight bytes at a time.
fn special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        // A byte's high bit is set where it is zero after the xor, or below 0x20: exact for
        // the lowest such byte, which is the one wanted.
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGH;
        if found != 0 {
            return Some(n * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = tail.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    Some(bytes.len() - tail.len() + at)
}

/// A position in the payload's text.
struct Reader<'a> {
    json: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.json.as_bytes()[self.at..]
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.rest().first() {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, left in place.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.rest().first().copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `null` as `None`, else the value `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.rest().starts_with(b"null").then(|| self.at += 4).map(|()| None);
        }
        read(self).map(Some)
    }

    /// A key: its place in [`KEYS`], or `None` for a key this reader does not know. The key at
    /// `expected` is compared as bytes first.
    fn key(&mut self, expected: usize) -> Option<Option<usize>> {
        self.skip_whitespace();
        if let Some(key) = KEYS.get(expected).map(|(key, _)| key.as_bytes()) {
            let rest = self.rest();
            if rest.len() > key.len() + 1
                && rest[0] == b'"'
                && &rest[1..=key.len()] == key
                && rest[key.len() + 1] == b'"'
            {
                self.at += key.len() + 2;
                return Some(Some(expected));
            }
        }
        let key = self.plain_str()?;
        Some(KEYS.iter().position(|(known, _)| *known == key))
    }

    /// A string without escapes or control characters, borrowed.
    fn plain_str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.rest();
        let len = special(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        let text = &self.json[self.at..self.at + len];
        self.at += len + 1;
        Some(text)
    }

    /// A string; one with escapes is serde_json's to unescape.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        match self.plain_str() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.at = start;
                self.value()
            }
        }
    }

    /// A time, in any form [`parse_time`] reads.
    fn time(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        let start = self.at;
        match self.plain_str() {
            Some(text) => parse_time(text).ok(),
            None => {
                self.at = start;
                parse_time(&self.value::<String>()?).ok()
            }
        }
    }

    /// A non-negative integer in JSON's form without fraction or exponent (serde_json reads
    /// those, and fails for an integer field), at most ten digits.
    fn uint(&mut self) -> Option<u64> {
        self.peek()?;
        self.digits()
    }

    fn int(&mut self) -> Option<i32> {
        match self.peek()? {
            b'-' => {
                self.at += 1;
                i32::try_from(-i64::try_from(self.digits()?).ok()?).ok()
            }
            _ => i32::try_from(self.digits()?).ok(),
        }
    }

    fn digits(&mut self) -> Option<u64> {
        let rest = self.rest();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 10 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = rest.get(digits) {
            return None;
        }
        self.at += digits;
        Some(rest[..digits].iter().fold(0, |n, b| n * 10 + u64::from(b - b'0')))
    }

    /// The arguments: an empty list read here, any other for serde_json.
    fn arguments(&mut self) -> Option<Vec<Value>> {
        self.skip_whitespace();
        if self.rest().starts_with(b"[]") {
            self.at += 2;
            return Some(Vec::new());
        }
        self.value()
    }

    /// `exception_executions`: empty or null read here, any other for serde_json.
    fn counts(&mut self) -> Option<BTreeMap<String, u32>> {
        self.skip_whitespace();
        if self.rest().starts_with(b"{}") {
            self.at += 2;
            return Some(BTreeMap::new());
        }
        self.value::<Option<BTreeMap<String, u32>>>().map(Option::unwrap_or_default)
    }

    /// One value read by serde_json, which says where it ended.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let mut values = serde_json::Deserializer::from_str(&self.json[self.at..]).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::contract::{Continuation, FlowKeys, RecurringRun};

    fn sample() -> JobData {
        JobData::from_json(
            r#"{"job_class":"SendWelcomeEmail","job_id":"5b5f3c61-52c4-4b8a-9f38-3f1c0bbf6d1e","provider_job_id":null,
            "queue_name":"mailers","priority":10,"arguments":["bob@example.com",3],"executions":0,
            "exception_executions":{},"locale":"en","timezone":"UTC","enqueued_at":"2024-05-06T07:08:09.123456789Z",
            "scheduled_at":null}"#,
        )
        .unwrap()
    }

    /// Every key this crate writes, each with a value.
    fn full() -> JobData {
        let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
        JobData {
            provider_job_id: Some("17".into()),
            priority: Some(-3),
            executions: 4,
            exception_executions: BTreeMap::from([("[\"Timeout\"]".to_owned(), 2)]),
            locale: "fr".into(),
            timezone: None,
            scheduled_at: Some(at),
            continuation: Some(Continuation { completed: vec!["fetch".into()], current: None }),
            resumptions: Some(1),
            recurring: Some(RecurringRun { task: "nightly".into(), run_at: at }),
            trace_headers: Some(TraceHeaders::from([("traceparent".to_owned(), "00-x".to_owned())])),
            flow: Some(FlowKeys { concurrency: Some("Charge/42".into()), ..FlowKeys::default() }),
            ..sample()
        }
    }

    /// What serde reads from `json`, which the reader must match whenever it answers.
    fn agree(json: &str) -> Option<JobData> {
        let read = read(json);
        if let Some(data) = &read {
            assert_eq!(Some(data), serde_json::from_str::<JobData>(json).ok().as_ref(), "{json}");
        }
        read
    }

    #[test]
    fn finds_the_first_special_byte_wherever_it_lies() {
        let naive = |bytes: &[u8]| bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        for len in 0..40 {
            for at in 0..=len {
                for special_byte in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    for filler in [b'a', b' ', 0x7f, 0xc3, b'!', b'#', b'[', b']'] {
                        let mut bytes = vec![filler; len];
                        if at < len {
                            bytes[at] = special_byte;
                            // A second one after it changes nothing.
                            if at + 3 < len {
                                bytes[at + 3] = b'"';
                            }
                        }
                        assert_eq!(special(&bytes), naive(&bytes), "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn reads_what_this_crate_writes() {
        for data in [sample(), full()] {
            let compact = data.to_json().unwrap();
            let pretty = serde_json::to_string_pretty(&data).unwrap();
            for json in [&compact, &pretty, &format!(" \n{pretty}\t\r\n")] {
                assert_eq!(agree(json).as_ref(), Some(&data), "{json}");
            }
        }
    }

    #[test]
    fn reads_older_and_foreign_forms_as_serde_does() {
        let cases = [
            // Rails 6.1: no scheduled_at, whole seconds, null timezone, an unknown key.
            r#"{"job_class":"A","job_id":"x","queue_name":"default","priority":null,"arguments":[],"executions":0,
               "exception_executions":{},"locale":"en","timezone":null,"enqueued_at":"2021-03-04T05:06:07Z","x":[{"y":1}]}"#,
            // The bare minimum: the defaults of everything else.
            r#"{"job_class":"A","job_id":"x"}"#,
            // Keys in another order, nulls where defaults apply, escapes, another offset.
            r#"{"locale":null,"exception_executions":null,"job_id":"a\"b","job_class":"\u0041","queue_name":"q\\n",
               "enqueued_at":"2024-05-06T09:08:09+02:00","scheduled_at":"2024-05-06T07:08:09.5Z","priority":-2147483648}"#,
            r#"{"job_class":"A","job_id":"x","locale":"","timezone":"Europe/Paris","executions":4294967295,"priority":2147483647}"#,
            r#"{"job_class":"A","job_id":"x","arguments":[ ],"exception_executions":{ }}"#,
            r#"{"job_class":"A","job_id":"x","__otel_headers":[1],"flow":null,"continuation":null}"#,
            r#"{"job_class":"A","job_id":"x","enqueued_at":"2024-05-06T07:08:09\u005a"}"#,
            r#"{ "job_class" : "A" , "job_id" : "x" }"#,
        ];
        for json in cases {
            assert!(agree(json).is_some(), "{json}");
        }
    }

    #[test]
    fn leaves_what_serde_rejects_to_serde() {
        let cases = [
            r#"{"job_class":"A","job_id":"x","job_class":"B"}"#,
            r#"{"job_class":"A","job_id":"x","priority":null,"priority":1}"#,
            r#"{"job_class":"A"}"#,
            r#"{"job_class":3,"job_id":"x"}"#,
            r#"{"job_class":"A","job_id":"x",}"#,
            r#"{"job_class":"A","job_id":"x"} x"#,
            r#"{"job_class":"A","job_id":"x","executions":4294967296}"#,
            r#"{"job_class":"A","job_id":"x","executions":-1}"#,
            r#"{"job_class":"A","job_id":"x","executions":1.0}"#,
            r#"{"job_class":"A","job_id":"x","executions":01}"#,
            r#"{"job_class":"A","job_id":"x","priority":2147483648}"#,
            r#"{"job_class":"A","job_id":"x","priority":- 1}"#,
            r#"{"job_class":"A","job_id":"x","priority":1e3}"#,
            r#"{"job_class":"A","job_id":"x","queue_name":null}"#,
            r#"{"job_class":"A","job_id":"x","enqueued_at":"yesterday"}"#,
            r#"{"job_class":"A","job_id":"x","timezone":nul}"#,
            "{\"job_class\":\"A\u{1}\",\"job_id\":\"x\"}",
            r#"{"job_class":"A","job_id":"x""#,
            r#"["A","x"]"#,
            "",
        ];
        for json in cases {
            assert_eq!(agree(json), None, "{json}");
            assert!(json.is_empty() || json.starts_with('[') || JobData::from_json(json).is_err(), "{json}");
        }
    }
}
