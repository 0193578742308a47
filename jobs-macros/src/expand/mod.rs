//! Turns a [`Model`] into tokens: the job struct, its `Job` impl and its registration.
//!
//! Everything here works on `proc_macro2`, and every runtime item is named through
//! `#krate::__private`, so that the runtime's crate root can change without breaking the macro.

mod arguments;
mod declarations;
mod flow;
mod handlers;
mod item;
mod job_impl;
pub(crate) mod mailer;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::parse::Model;

/// The function, unchanged, then what `#[job]` generates for it, then `errors`.
///
/// On errors the expansion still does its best, as long as the function's parameters could be
/// read: the struct, its `perform_later` / `perform_now` / `set` and its `Job` impl are generated
/// from what parsed (a bad key falls back to its default), so that call sites and editors keep
/// working and the only errors are the ones reported.
pub(crate) fn job(function: &ItemFn, model: &Model, errors: Option<syn::Error>) -> TokenStream {
    let errors = errors.map(|e| e.to_compile_error());
    if !model.function.complete {
        // A method, a generic or a parameter we could not read: no struct can mirror it.
        return quote!(#function #errors);
    }
    let generated = generate(model);
    quote!(#function #generated #errors)
}

/// The struct, its impls and its registration.
pub(crate) fn generate(model: &Model) -> TokenStream {
    let krate = model.attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::jobs));
    let private = quote!(#krate::__private);
    let item = item::generate(&private, &model.function);
    let job_impl = job_impl::generate(&private, model);
    let struct_ident = &model.function.struct_ident;
    quote! {
        #item
        #job_impl
        #private::inventory::submit! {
            #private::JobRegistration::of::<#struct_ident>()
        }
    }
}
