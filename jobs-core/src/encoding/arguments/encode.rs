//! Serde types to Active Job's JSON: every hash carries `_aj_symbol_keys` (a struct's field names,
//! which Rails reads back as symbols; none for a map, whose keys stay strings), and keys starting
//! with `_aj_` are refused because Active Job reserves them. `NaN` and the infinities are refused
//! too, wherever they sit: JSON has no spelling for them (Ruby's `JSON.generate` raises), and
//! writing `null` instead would only fail later, when the job is performed.

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

use super::SYMBOL_KEYS;

/// Why a value could not be encoded.
#[derive(Debug)]
pub(crate) struct EncodeError(pub(crate) String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        EncodeError(message.to_string())
    }
}

/// Encodes `value` as Active Job argument JSON.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    value.serialize(ValueSerializer { marked: true })
}

/// Encodes `value` as plain JSON, as `serde_json::to_value` does (no `_aj_symbol_keys`, no key
/// check), but refusing non-finite floats: for custom serializers, whose hash Rails reads as it is.
pub(crate) fn to_plain_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    value.serialize(ValueSerializer { marked: false })
}

fn encode<T: Serialize + ?Sized>(value: &T, marked: bool) -> Result<Value, EncodeError> {
    value.serialize(ValueSerializer { marked })
}

/// JSON has numbers only for finite floats; serde_json would write `null` for the others.
fn finite(v: f64) -> Result<(), EncodeError> {
    if v.is_finite() {
        return Ok(());
    }
    let name = if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    Err(EncodeError(format!(
        "{name} is not allowed in JSON (Ruby's JSON raises on it too); pass a finite number, or an Option for a missing value"
    )))
}

/// Refuses the keys Active Job reserves for its own markers.
pub(crate) fn check_key(key: &str) -> Result<(), EncodeError> {
    if key.starts_with("_aj_") {
        return Err(EncodeError(format!(
            "`{key}` is a reserved key: Active Job keeps keys starting with `_aj_` for its own markers; rename it"
        )));
    }
    Ok(())
}

/// A hash as Active Job writes it: the entries, then the list of keys that are symbols.
pub(crate) fn hash(mut map: Map<String, Value>, symbol_keys: Vec<String>) -> Value {
    map.insert(SYMBOL_KEYS.to_owned(), Value::Array(symbol_keys.into_iter().map(Value::String).collect()));
    Value::Object(map)
}

fn plain(result: Result<Value, serde_json::Error>) -> Result<Value, EncodeError> {
    result.map_err(|e| EncodeError(e.to_string()))
}

/// `marked`: Active Job's hashes (`_aj_symbol_keys`, reserved keys refused), or plain JSON.
#[derive(Clone, Copy)]
struct ValueSerializer {
    marked: bool,
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = EncodeError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = VariantSeq;
    type SerializeMap = MapHash;
    type SerializeStruct = StructHash;
    type SerializeStructVariant = VariantStruct;

    fn serialize_bool(self, v: bool) -> Result<Value, EncodeError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<Value, EncodeError> {
        plain(ser::Serializer::serialize_i128(serde_json::value::Serializer, v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Value, EncodeError> {
        Ok(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<Value, EncodeError> {
        plain(ser::Serializer::serialize_u128(serde_json::value::Serializer, v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, EncodeError> {
        finite(v.into())?;
        plain(ser::Serializer::serialize_f32(serde_json::value::Serializer, v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, EncodeError> {
        finite(v)?;
        plain(ser::Serializer::serialize_f64(serde_json::value::Serializer, v))
    }
    fn serialize_char(self, v: char) -> Result<Value, EncodeError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, EncodeError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, EncodeError> {
        Ok(Value::Array(v.iter().map(|b| Value::from(*b)).collect()))
    }
    fn serialize_none(self) -> Result<Value, EncodeError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, EncodeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, EncodeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, EncodeError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<Value, EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, EncodeError> {
        variant_hash(variant, encode(value, self.marked)?, self.marked)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, EncodeError> {
        Ok(Seq { items: Vec::with_capacity(len.unwrap_or(0)), marked: self.marked })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, EncodeError> {
        Ok(Seq { items: Vec::with_capacity(len), marked: self.marked })
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, EncodeError> {
        Ok(Seq { items: Vec::with_capacity(len), marked: self.marked })
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSeq, EncodeError> {
        Ok(VariantSeq { variant, items: Seq { items: Vec::with_capacity(len), marked: self.marked } })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapHash, EncodeError> {
        Ok(MapHash { map: Map::new(), key: None, marked: self.marked })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<StructHash, EncodeError> {
        Ok(StructHash { marked: self.marked, ..StructHash::default() })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<VariantStruct, EncodeError> {
        Ok(VariantStruct { variant, fields: StructHash { marked: self.marked, ..StructHash::default() } })
    }
}

/// An enum variant with data, `{"Variant": data}`: the variant name is data, a string key.
fn variant_hash(variant: &str, value: Value, marked: bool) -> Result<Value, EncodeError> {
    if marked {
        check_key(variant)?;
    }
    let mut map = Map::new();
    map.insert(variant.to_owned(), value);
    finish(map, Vec::new(), marked)
}

/// Adds the symbol keys of an Active Job hash; leaves a plain one as it is.
fn finish(map: Map<String, Value>, symbol_keys: Vec<String>, marked: bool) -> Result<Value, EncodeError> {
    Ok(if marked { hash(map, symbol_keys) } else { Value::Object(map) })
}

struct Seq {
    items: Vec<Value>,
    marked: bool,
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.items.push(encode(value, self.marked)?);
        Ok(())
    }
    fn end(self) -> Result<Value, EncodeError> {
        Ok(Value::Array(self.items))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, EncodeError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, EncodeError> {
        ser::SerializeSeq::end(self)
    }
}

struct VariantSeq {
    variant: &'static str,
    items: Seq,
}

impl ser::SerializeTupleVariant for VariantSeq {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(&mut self.items, value)
    }
    fn end(self) -> Result<Value, EncodeError> {
        variant_hash(self.variant, Value::Array(self.items.items), self.items.marked)
    }
}

/// A map: its keys are data, so they stay strings in Ruby.
struct MapHash {
    map: Map<String, Value>,
    key: Option<String>,
    marked: bool,
}

impl ser::SerializeMap for MapHash {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let key = match key.serialize(serde_json::value::Serializer) {
            Ok(Value::String(s)) => s,
            Ok(Value::Number(n)) => n.to_string(),
            Ok(Value::Bool(b)) => b.to_string(),
            _ => return Err(EncodeError("hash keys must be strings or numbers, as in Active Job".into())),
        };
        if self.marked {
            check_key(&key)?;
        }
        self.key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self.key.take().ok_or_else(|| EncodeError("a map value came before its key".into()))?;
        self.map.insert(key, encode(value, self.marked)?);
        Ok(())
    }
    fn end(self) -> Result<Value, EncodeError> {
        finish(self.map, Vec::new(), self.marked)
    }
}

/// A struct: its field names become symbol keys in Ruby (`{name: "Ada"}`).
#[derive(Default)]
struct StructHash {
    map: Map<String, Value>,
    symbol_keys: Vec<String>,
    marked: bool,
}

impl ser::SerializeStruct for StructHash {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), EncodeError> {
        if self.marked {
            check_key(key)?;
        }
        self.map.insert(key.to_owned(), encode(value, self.marked)?);
        self.symbol_keys.push(key.to_owned());
        Ok(())
    }
    fn end(self) -> Result<Value, EncodeError> {
        finish(self.map, self.symbol_keys, self.marked)
    }
}

struct VariantStruct {
    variant: &'static str,
    fields: StructHash,
}

impl ser::SerializeStructVariant for VariantStruct {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), EncodeError> {
        ser::SerializeStruct::serialize_field(&mut self.fields, key, value)
    }
    fn end(self) -> Result<Value, EncodeError> {
        let marked = self.fields.marked;
        variant_hash(self.variant, ser::SerializeStruct::end(self.fields)?, marked)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    struct Options {
        greeting: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        times: Option<u32>,
        tags: BTreeMap<String, i32>,
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Point(i32, i32),
        Circle { r: u8 },
    }

    #[test]
    fn structs_have_symbol_keys_and_maps_string_keys() {
        let options = Options { greeting: "hi".into(), times: None, tags: [("a".to_owned(), 1)].into() };
        assert_eq!(
            to_value(&options).unwrap(),
            json!({"greeting": "hi", "tags": {"a": 1, "_aj_symbol_keys": []}, "_aj_symbol_keys": ["greeting", "tags"]})
        );
    }

    #[test]
    fn enums_are_hashes_keyed_by_variant() {
        assert_eq!(to_value(&Shape::Unit).unwrap(), json!("Unit"));
        assert_eq!(to_value(&Shape::Point(1, 2)).unwrap(), json!({"Point": [1, 2], "_aj_symbol_keys": []}));
        assert_eq!(
            to_value(&Shape::Circle { r: 3 }).unwrap(),
            json!({"Circle": {"r": 3, "_aj_symbol_keys": ["r"]}, "_aj_symbol_keys": []})
        );
    }

    #[test]
    fn refuses_reserved_keys_and_odd_map_keys() {
        let err = to_value(&json!({"ok": {"_aj_globalid": "x"}})).unwrap_err();
        assert!(err.0.starts_with("`_aj_globalid` is a reserved key"), "{err}");
        let mut odd = BTreeMap::new();
        odd.insert((1, 2), 3);
        assert_eq!(to_value(&odd).unwrap_err().0, "hash keys must be strings or numbers, as in Active Job");
        let numbers: BTreeMap<u8, bool> = [(7, true)].into();
        assert_eq!(to_value(&numbers).unwrap(), json!({"7": true, "_aj_symbol_keys": []}));
    }

    #[test]
    fn refuses_non_finite_floats_wherever_they_are() {
        #[derive(Serialize)]
        struct Reading {
            values: Vec<BTreeMap<String, Option<f32>>>,
        }
        let nan = Reading { values: vec![[("t".to_owned(), Some(f32::NAN))].into()] };
        assert!(to_value(&nan).unwrap_err().0.starts_with("NaN is not allowed in JSON"));
        assert!(to_plain_value(&nan).unwrap_err().0.starts_with("NaN is not allowed in JSON"));
        assert!(to_value(&Shape::Point(1, 2)).is_ok());
        assert!(to_value(&[1.5, f64::INFINITY]).unwrap_err().0.starts_with("Infinity is not allowed"));
        assert!(to_value(&(f64::NEG_INFINITY,)).unwrap_err().0.starts_with("-Infinity is not allowed"));
        assert_eq!(to_value(&[1.5, -0.0]).unwrap(), json!([1.5, -0.0]));
    }

    #[test]
    fn plain_values_are_serde_json_values() {
        let options = Options { greeting: "hi".into(), times: Some(2), tags: [("_aj_x".to_owned(), 1)].into() };
        assert_eq!(to_plain_value(&options).unwrap(), serde_json::to_value(&options).unwrap());
        let shapes = (Shape::Unit, Shape::Point(1, 2), Shape::Circle { r: 3 });
        assert_eq!(to_plain_value(&shapes).unwrap(), serde_json::to_value(&shapes).unwrap());
    }
}
