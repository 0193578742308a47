//! Types with an Active Job encoding of their own: times, dates, durations, custom serializers,
//! and containers of them.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::encode::{check_key, hash, to_plain_value};
use super::{SERIALIZED, serializers};
use crate::contract::EncodeContext;
use crate::contract::{BoxError, format_time};

/// A type that travels in an Active Job encoding of its own rather than as its serde form.
///
/// `#[job]` encodes a parameter with this trait when its type implements it, and with serde
/// otherwise, so `async fn f(at: DateTime<Utc>, tags: Vec<String>)` needs nothing special.
/// Implemented for `chrono::DateTime<Utc>` (Active Job's `TimeWithZoneSerializer`, zone `UTC`),
/// `DateTime<FixedOffset>` (`TimeSerializer`), `NaiveDate` (`DateSerializer`),
/// `std::time::Duration` and `chrono::TimeDelta` (`DurationSerializer`), `rust_decimal::Decimal`
/// with feature `decimal` (`BigDecimalSerializer`), records ([`Global`](crate::Global)), keyword
/// hashes ([`Keywords`](crate::Keywords)), every [`CustomSerializer`], and `Option`, `Vec`,
/// `HashMap<String, _>` and `BTreeMap<String, _>` of these.
///
/// Decoding is lenient: a time also reads from a plain ISO 8601 string, a duration from a number
/// of seconds, a decimal from a string, as older producers write them.
///
/// Fields of your own serde structs keep their serde form (a `DateTime` field is an ISO 8601
/// string, which Rails reads as a `String`); Rails' encodings inside hashes still decode into
/// them.
///
/// ```
/// use jobs_core::encoding::{EncodeContext, RichArgument};
/// use chrono::{TimeZone, Utc};
///
/// let at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
/// let json = at.encode(&EncodeContext::new()).unwrap();
/// assert_eq!(json["_aj_serialized"], "ActiveJob::Serializers::TimeWithZoneSerializer");
/// assert_eq!(json["value"], "2024-01-02T03:04:05.000000000Z");
/// assert_eq!(chrono::DateTime::<Utc>::decode(json).unwrap(), at);
/// ```
pub trait RichArgument: Sized + Send + 'static {
    /// The argument as Active Job JSON; `cx` carries what encoding needs from the runtime the
    /// job is enqueued on (the app name of global ids).
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError>;
    /// The argument back from Active Job JSON.
    fn decode(value: Value) -> Result<Self, BoxError>;
}

/// A type with its own named serializer, like a subclass of Active Job's `ObjectSerializer`:
/// it travels as its serde hash plus `"_aj_serialized": NAME`.
///
/// ```
/// use jobs_core::CustomSerializer;
/// use jobs_core::encoding::{EncodeContext, RichArgument};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Money { cents: i64, currency: String }
///
/// impl CustomSerializer for Money {
///     const NAME: &'static str = "MoneySerializer";
/// }
///
/// let money = Money { cents: 1999, currency: "EUR".into() };
/// let json = money.encode(&EncodeContext::new()).unwrap();
/// assert_eq!(json, serde_json::json!({"_aj_serialized": "MoneySerializer", "cents": 1999, "currency": "EUR"}));
/// assert_eq!(Money::decode(json).unwrap(), money);
/// ```
///
/// On the Rails side, a serializer of that name reads it back:
///
/// ```ruby
/// class MoneySerializer < ActiveJob::Serializers::ObjectSerializer
///   def serialize?(argument) = argument.is_a?(Money)
///   def serialize(money) = super("cents" => money.cents, "currency" => money.currency)
///   def deserialize(hash) = Money.new(hash["cents"], hash["currency"])
/// end
/// Rails.application.config.active_job.custom_serializers << MoneySerializer
/// ```
pub trait CustomSerializer: Serialize + DeserializeOwned + Send + 'static {
    /// The serializer's name, written in `"_aj_serialized"` (Rails' serializer class name).
    const NAME: &'static str;
}

impl<T: CustomSerializer> RichArgument for T {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        let Value::Object(mut map) = to_plain_value(self)? else {
            return Err(format!(
                "{} must serialize as a hash (a struct or a map) to carry its serializer's name",
                T::NAME
            )
            .into());
        };
        for key in map.keys() {
            check_key(key)?;
        }
        map.insert(SERIALIZED.to_owned(), Value::from(T::NAME));
        Ok(Value::Object(map))
    }

    fn decode(value: Value) -> Result<Self, BoxError> {
        let Value::Object(mut map) = value else {
            return Err(format!("expected a hash of {}, found {}", T::NAME, kind(&value)).into());
        };
        match map.remove(SERIALIZED) {
            None => {}
            Some(Value::String(name)) if name == T::NAME => {}
            Some(other) => return Err(format!("expected a hash of {}, found one of {other}", T::NAME).into()),
        }
        Ok(serde_json::from_value(Value::Object(map))?)
    }
}

/// `{"_aj_serialized": name, "value": value}`.
fn serialized(name: &str, value: Value) -> Value {
    json!({ SERIALIZED: name, "value": value })
}

/// The `value` of an object of one of the `accepted` serializers; any other value as it is.
fn unwrap(value: Value, accepted: &[&str], what: &str) -> Result<Value, BoxError> {
    let Value::Object(mut map) = value else { return Ok(value) };
    match map.remove(SERIALIZED) {
        Some(Value::String(name)) if accepted.contains(&name.as_str()) => {
            map.remove("value").ok_or_else(|| format!("{name} hash without a value").into())
        }
        Some(Value::String(name)) => Err(format!("expected {what}, found a hash of {name}").into()),
        _ => Err(format!("expected {what}, found a hash").into()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a hash",
    }
}

const TIMES: &[&str] = &[serializers::TIME_WITH_ZONE, serializers::TIME, serializers::DATE_TIME];

fn time(value: Value) -> Result<DateTime<FixedOffset>, BoxError> {
    match unwrap(value, TIMES, "a time")? {
        Value::String(text) => {
            DateTime::parse_from_rfc3339(&text).map_err(|e| format!("invalid time `{text}`: {e}").into())
        }
        other => Err(format!("expected a time, found {}", kind(&other)).into()),
    }
}

impl RichArgument for DateTime<Utc> {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(json!({ SERIALIZED: serializers::TIME_WITH_ZONE, "value": format_time(self), "time_zone": "UTC" }))
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        Ok(time(value)?.with_timezone(&Utc))
    }
}

impl RichArgument for DateTime<FixedOffset> {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(serialized(serializers::TIME, self.to_rfc3339_opts(SecondsFormat::Nanos, true).into()))
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        time(value)
    }
}

impl RichArgument for NaiveDate {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(serialized(serializers::DATE, self.format("%Y-%m-%d").to_string().into()))
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        match unwrap(value, &[serializers::DATE], "a date")? {
            Value::String(text) => text.parse().map_err(|e| format!("invalid date `{text}`: {e}").into()),
            other => Err(format!("expected a date, found {}", kind(&other)).into()),
        }
    }
}

/// A duration of `seconds` (an integer, or a float with a fraction), in Active Job's form: its
/// parts are all seconds, so Ruby adds it to a time exactly as Rust would.
fn duration(seconds: Value) -> Value {
    json!({
        SERIALIZED: serializers::DURATION,
        "value": seconds,
        "parts": [[{ SERIALIZED: serializers::SYMBOL, "value": "seconds" }, seconds]],
    })
}

fn seconds(value: Value) -> Result<serde_json::Number, BoxError> {
    match unwrap(value, &[serializers::DURATION], "a duration")? {
        Value::Number(n) => Ok(n),
        other => Err(format!("expected a duration, found {}", kind(&other)).into()),
    }
}

impl RichArgument for Duration {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(duration(match self.subsec_nanos() {
            0 => self.as_secs().into(),
            _ => self.as_secs_f64().into(),
        }))
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        let n = seconds(value)?;
        if let Some(secs) = n.as_u64() {
            return Ok(Duration::from_secs(secs));
        }
        let secs = n.as_f64().unwrap_or(f64::NAN);
        Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("invalid duration of {n} seconds for a std Duration").into())
    }
}

impl RichArgument for TimeDelta {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(duration(match self.subsec_nanos() {
            0 => self.num_seconds().into(),
            nanos => (self.num_seconds() as f64 + f64::from(nanos) / 1e9).into(),
        }))
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        let n = seconds(value)?;
        let out_of_range = || format!("duration of {n} seconds is out of range");
        if let Some(secs) = n.as_i64() {
            return TimeDelta::try_seconds(secs).ok_or_else(|| out_of_range().into());
        }
        let secs = n.as_f64().filter(|s| s.is_finite() && s.abs() < 9.0e15).ok_or_else(out_of_range)?;
        let whole = secs.trunc();
        let nanos = ((secs - whole) * 1e9).round() as i64;
        Ok(TimeDelta::try_seconds(whole as i64).ok_or_else(out_of_range)? + TimeDelta::nanoseconds(nanos))
    }
}

impl<T: RichArgument> RichArgument for Option<T> {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        match self {
            Some(value) => value.encode(cx),
            None => Ok(Value::Null),
        }
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        match value {
            Value::Null => Ok(None),
            value => T::decode(value).map(Some),
        }
    }
}

impl<T: RichArgument> RichArgument for Vec<T> {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        self.iter().map(|item| item.encode(cx)).collect::<Result<_, _>>().map(Value::Array)
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        match value {
            Value::Array(items) => items.into_iter().map(T::decode).collect(),
            other => Err(format!("expected an array, found {}", kind(&other)).into()),
        }
    }
}

fn encode_map<'a, T: RichArgument>(
    cx: &EncodeContext<'_>,
    entries: impl Iterator<Item = (&'a String, &'a T)>,
) -> Result<Value, BoxError> {
    let mut map = Map::new();
    for (key, value) in entries {
        check_key(key)?;
        map.insert(key.clone(), value.encode(cx)?);
    }
    Ok(hash(map, Vec::new()))
}

fn decode_map<T: RichArgument>(value: Value) -> Result<impl Iterator<Item = Result<(String, T), BoxError>>, BoxError> {
    match value {
        Value::Object(map) => Ok(map
            .into_iter()
            .filter(|(key, _)| !key.starts_with("_aj_"))
            .map(|(key, value)| Ok((key, T::decode(value)?)))),
        other => Err(format!("expected a hash, found {}", kind(&other)).into()),
    }
}

impl<T: RichArgument, S: BuildHasher + Default + Send + 'static> RichArgument for HashMap<String, T, S> {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        encode_map(cx, self.iter())
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        decode_map(value)?.collect()
    }
}

impl<T: RichArgument> RichArgument for BTreeMap<String, T> {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        encode_map(cx, self.iter())
    }
    fn decode(value: Value) -> Result<Self, BoxError> {
        decode_map(value)?.collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_in_every_form() {
        let at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap() + TimeDelta::nanoseconds(123_456_789);
        assert_eq!(
            at.encode(&EncodeContext::new()).unwrap(),
            json!({"_aj_serialized": serializers::TIME_WITH_ZONE, "value": "2024-01-02T03:04:05.123456789Z", "time_zone": "UTC"})
        );
        let berlin = at.with_timezone(&FixedOffset::east_opt(3600).unwrap());
        let json = berlin.encode(&EncodeContext::new()).unwrap();
        assert_eq!(json, json!({"_aj_serialized": serializers::TIME, "value": "2024-01-02T04:04:05.123456789+01:00"}));
        assert_eq!(DateTime::<FixedOffset>::decode(json).unwrap().offset().local_minus_utc(), 3600);
        assert_eq!(DateTime::<Utc>::decode(json!("2024-01-02T04:04:05.123456789+01:00")).unwrap(), at);
        let err = DateTime::<Utc>::decode(json!({"_aj_serialized": serializers::DATE, "value": "2024-01-02"}));
        assert_eq!(err.unwrap_err().to_string(), format!("expected a time, found a hash of {}", serializers::DATE));
    }

    #[test]
    fn durations_in_seconds() {
        let json = Duration::from_millis(1500).encode(&EncodeContext::new()).unwrap();
        assert_eq!(json["value"], json!(1.5));
        assert_eq!(json["parts"], json!([[{"_aj_serialized": serializers::SYMBOL, "value": "seconds"}, 1.5]]));
        assert_eq!(Duration::decode(json).unwrap(), Duration::from_millis(1500));
        assert_eq!(TimeDelta::decode(json!(-1.25)).unwrap(), TimeDelta::milliseconds(-1250));
        assert_eq!(TimeDelta::seconds(-90).encode(&EncodeContext::new()).unwrap()["value"], json!(-90));
        assert!(Duration::decode(json!(-1)).unwrap_err().to_string().contains("invalid duration"));
    }

    #[test]
    fn maps_refuse_reserved_keys_and_skip_markers() {
        let map: BTreeMap<String, NaiveDate> = [("_aj_x".to_owned(), NaiveDate::MIN)].into();
        assert!(map.encode(&EncodeContext::new()).unwrap_err().to_string().starts_with("`_aj_x` is a reserved key"));
        let decoded: HashMap<String, Option<NaiveDate>> =
            RichArgument::decode(json!({"a": null, "b": "2024-02-29", "_aj_symbol_keys": []})).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded["b"], NaiveDate::from_ymd_opt(2024, 2, 29));
    }
}
