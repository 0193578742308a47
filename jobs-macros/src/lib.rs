//! The `#[job]` attribute; use it through the `jobs` crate, which documents it.
//!
//! Parsing lives in [`attr`] (the attribute's keys) and [`signature`] (the function), generation in
//! [`expand`]; both work on `proc_macro2` so they can be unit-tested without a compiler.

use proc_macro::TokenStream;

mod attr;
mod ctxt;
mod declarations;
mod expand;
mod handlers;
mod signature;

/// Turns an `async fn` into a background job; see `jobs::job` for the documentation.
#[proc_macro_attribute]
pub fn job(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::job(attr.into(), item.into()).into()
}
