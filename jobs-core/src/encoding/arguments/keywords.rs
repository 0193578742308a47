//! `Keywords<T>`: a hash that Ruby receives as keyword arguments.

use std::ops::{Deref, DerefMut};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::rich::RichArgument;
use super::{RUBY2_KEYWORDS, SYMBOL_KEYS, decode, encode};
use crate::contract::BoxError;
use crate::contract::EncodeContext;

/// A struct or map passed as Ruby keyword arguments, for Rails jobs declared as
/// `def perform(name, greeting:, times: 1)`.
///
/// It travels as a hash marked `"_aj_ruby2_keywords"` (every key a symbol), which Active Job
/// passes to `perform` as keywords; a plain struct would arrive as one positional hash, which
/// Ruby 3 does not turn into keywords. Payloads from Rails with keyword arguments decode into it
/// (and into a plain struct too). Put it last, as Ruby does.
///
/// ```
/// use jobs_core::Keywords;
/// use jobs_core::encoding::{EncodeContext, RichArgument};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Greeting { greeting: String, times: u32 }
///
/// let json = Keywords(Greeting { greeting: "hi".into(), times: 2 }).encode(&EncodeContext::new()).unwrap();
/// assert_eq!(json, serde_json::json!({"greeting": "hi", "times": 2, "_aj_ruby2_keywords": ["greeting", "times"]}));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Keywords<T>(pub T);

impl<T> Keywords<T> {
    /// The wrapped hash.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Keywords<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Keywords<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> RichArgument for Keywords<T> {
    fn encode(&self, _cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        let Value::Object(mut map) = encode::to_value(&self.0)? else {
            return Err("keyword arguments must serialize as a hash (a struct or a map)".into());
        };
        map.remove(SYMBOL_KEYS);
        let keys = map.keys().cloned().map(Value::String).collect();
        map.insert(RUBY2_KEYWORDS.to_owned(), Value::Array(keys));
        Ok(Value::Object(map))
    }

    fn decode(value: Value) -> Result<Self, BoxError> {
        Ok(Keywords(serde_json::from_value(decode::normalize(value))?))
    }
}
