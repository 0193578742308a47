//! Decimals (feature `decimal`): `rust_decimal::Decimal` as Active Job's `BigDecimal`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::rich::RichArgument;
use super::{SERIALIZED, serializers};
use crate::contract::BoxError;
use crate::contract::EncodeContext;

/// Written with `BigDecimalSerializer` (Active Job 7.1 and later), read from it, from a plain
/// string (how Active Job 6.1 and 7.0 pass a `BigDecimal`), or from a number; Ruby's scientific
/// form (`"0.1234e2"`) is accepted.
#[cfg_attr(docsrs, doc(cfg(feature = "decimal")))]
impl RichArgument for Decimal {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        Ok(json!({ SERIALIZED: serializers::BIG_DECIMAL, "value": self.to_string() }))
    }

    fn decode(value: Value) -> Result<Self, BoxError> {
        let text = match value {
            Value::Object(mut map) => {
                match map.remove(SERIALIZED) {
                    Some(Value::String(name)) if name == serializers::BIG_DECIMAL => {}
                    _ => return Err("expected a decimal, found a hash".into()),
                }
                match map.remove("value") {
                    Some(Value::String(text)) => text,
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err("BigDecimalSerializer hash without a value".into()),
                }
            }
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            _ => return Err("expected a decimal".into()),
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|e| format!("invalid decimal `{text}`: {e}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form() {
        let d = Decimal::from_str("12.34").unwrap();
        assert_eq!(
            d.encode(&EncodeContext::new()).unwrap(),
            json!({"_aj_serialized": serializers::BIG_DECIMAL, "value": "12.34"})
        );
        assert_eq!(Decimal::decode(d.encode(&EncodeContext::new()).unwrap()).unwrap(), d);
        assert_eq!(Decimal::decode(json!("0.1234e2")).unwrap(), d);
        assert_eq!(Decimal::decode(json!(12.34)).unwrap(), d);
        assert!(Decimal::decode(json!("abc")).unwrap_err().to_string().starts_with("invalid decimal `abc`"));
    }
}
