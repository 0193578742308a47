//! Bounds on what a payload may hold: its size at enqueue, its nesting when encoded and decoded.

use serde_json::Value;

use crate::contract::{Error, NewJob};

/// The default largest payload, in bytes of JSON, that enqueue accepts: 512 KiB.
///
/// Change it with `Runtime::builder().max_payload_size(bytes)`.
pub const DEFAULT_MAX_PAYLOAD_SIZE: usize = 512 * 1024;

/// How deeply arrays and hashes may nest inside one argument, when encoded and when decoded.
///
/// Deeper arguments fail at enqueue with [`Error::Serialization`], and a deeper payload fails at
/// perform time with [`Error::Deserialization`] instead of exhausting the worker's stack.
pub const MAX_ARGUMENT_DEPTH: usize = 64;

/// Fails with [`Error::PayloadTooLarge`] when `job`'s encoded payload is larger than `limit` bytes.
pub(crate) fn check_payload_size(job: &NewJob, limit: usize) -> Result<(), Error> {
    if job.size() > limit {
        return Err(Error::PayloadTooLarge { job: job.data().job_class.clone(), size: job.size(), limit });
    }
    Ok(())
}

/// True when arrays and hashes nest more than `limit` levels deep in `value`.
pub(crate) fn too_deep(value: &Value, limit: usize) -> bool {
    match value {
        Value::Array(items) => limit == 0 || items.iter().any(|v| too_deep(v, limit - 1)),
        Value::Object(map) => limit == 0 || map.values().any(|v| too_deep(v, limit - 1)),
        _ => false,
    }
}

/// The message for an argument nested deeper than [`MAX_ARGUMENT_DEPTH`].
pub(crate) fn too_deep_message() -> String {
    format!("nested deeper than {MAX_ARGUMENT_DEPTH} levels of arrays and hashes (the limit for job arguments)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measures_nesting() {
        assert!(!too_deep(&json!(1), 0));
        assert!(too_deep(&json!([]), 0));
        assert!(!too_deep(&json!([[1]]), 2));
        assert!(too_deep(&json!([[1]]), 1));
        assert!(too_deep(&json!({"a": {"b": []}}), 2));
    }
}
