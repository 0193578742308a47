//! Active Job's JSON to the plain JSON that serde types read: markers dropped, records and
//! serialized objects turned into the plain values their Rust counterparts deserialize from.

use serde_json::Value;

use super::{GLOBALID, SERIALIZED, serializers};

/// Rewrites `value` for serde: `{"_aj_globalid": gid}` becomes the gid string; a time, date,
/// symbol, module, decimal or duration in `_aj_serialized` form becomes its `value` (an ISO 8601
/// string, a string, a number of seconds); an object of another serializer loses its
/// `_aj_serialized` key; every other `_aj_*` key (`_aj_symbol_keys`, `_aj_ruby2_keywords`,
/// `_aj_hash_with_indifferent_access`, keys of later versions) is dropped.
///
/// The caller bounds the depth first.
pub(crate) fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(mut map) => {
            if map.len() == 1
                && let Some(Value::String(gid)) = map.get(GLOBALID)
            {
                return Value::String(gid.clone());
            }
            if let Some(Value::String(name)) = map.get(SERIALIZED)
                && serializers::is_plain(name)
                && let Some(value) = map.remove("value")
            {
                return normalize(value);
            }
            map.retain(|key, _| !key.starts_with("_aj_"));
            Value::Object(map.into_iter().map(|(key, value)| (key, normalize(value))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn turns_active_job_forms_into_plain_json() {
        let rails = json!([
            {"name": "x", "list": [{"_aj_serialized": "ActiveJob::Serializers::SymbolSerializer", "value": "a"}],
             "_aj_symbol_keys": ["name"]},
            {"a": 1, "_aj_hash_with_indifferent_access": true},
            {"greeting": "hi", "_aj_ruby2_keywords": ["greeting"]},
            {"_aj_serialized": "ActiveJob::Serializers::TimeWithZoneSerializer", "value": "2024-01-02T03:04:05Z"},
            {"_aj_serialized": "ActiveJob::Serializers::DurationSerializer", "value": 90, "parts": []},
            {"_aj_serialized": "MoneySerializer", "cents": 5},
            {"_aj_globalid": "gid://app/User/1"},
        ]);
        assert_eq!(
            normalize(rails),
            json!([
                {"name": "x", "list": ["a"]},
                {"a": 1},
                {"greeting": "hi"},
                "2024-01-02T03:04:05Z",
                90,
                {"cents": 5},
                "gid://app/User/1",
            ])
        );
    }
}
