//! A slot for one key's value that reports a second occurrence of the key.

use proc_macro2::TokenStream;
use quote::ToTokens;

use super::symbol::Symbol;
use crate::ctxt::Ctxt;

/// The value of key `name`, set at most once.
pub(crate) struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: Symbol,
    hint: &'static str,
    first: Option<TokenStream>,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    /// An empty slot for key `name`.
    pub(crate) fn none(cx: &'c Ctxt, name: Symbol) -> Self {
        Attr { cx, name, hint: "", first: None, value: None }
    }

    /// Appends `hint` to the duplicate-key error (`"; name several functions as a list"`).
    pub(crate) fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    /// Whether the key was seen already; reports it, spanned on `key`, if it was. Call before
    /// parsing the value, so that a repeated key is reported once and its value not checked.
    pub(crate) fn first_time(&mut self, key: impl ToTokens) -> bool {
        let tokens = key.into_token_stream();
        if self.first.is_some() {
            self.cx.error_spanned_by(
                tokens,
                format_args!("duplicate key `{}`: give each key once{}", self.name, self.hint),
            );
            return false;
        }
        self.first = Some(tokens);
        true
    }

    /// Sets the value parsed after [`Attr::first_time`] returned true.
    pub(crate) fn set_parsed(&mut self, value: Option<T>) {
        if value.is_some() {
            self.value = value;
        }
    }

    /// The value, if the key was given with a valid value.
    pub(crate) fn get(self) -> Option<T> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::symbol::QUEUE;
    use quote::quote;

    #[test]
    fn reports_the_second_occurrence() {
        let cx = Ctxt::new();
        let mut queue = Attr::none(&cx, QUEUE);
        for value in ["a", "b"] {
            if queue.first_time(quote!(queue)) {
                queue.set_parsed(Some(value));
            }
        }
        assert_eq!(queue.get(), Some("a"));
        let error = cx.check().unwrap_err();
        assert_eq!(error.to_string(), "duplicate key `queue`: give each key once");
    }
}
