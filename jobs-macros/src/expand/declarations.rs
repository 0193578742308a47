//! A job's `DECLARATIONS` (error handlers and callbacks) and `TIMEOUT`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use super::handlers::{error_handler, handler};
use crate::parse::model::JobAttrs;

/// `const DECLARATIONS` and `const TIMEOUT` items for the `Job` impl (empty when nothing is declared).
pub(crate) fn items(private: &TokenStream, attrs: &JobAttrs) -> TokenStream {
    let timeout = attrs.timeout.map(|t| {
        let nanos = t.as_nanos() as u64;
        quote! {
            const TIMEOUT: ::core::option::Option<::core::time::Duration> =
                ::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos));
        }
    });
    let callbacks = &attrs.callbacks;
    if attrs.handlers.is_empty() && callbacks.is_empty() {
        return quote!(#timeout);
    }
    let handlers = attrs.handlers.iter().map(|h| handler(private, h));
    let after_discard = callbacks.after_discard.iter().map(|p| error_handler(private, p));
    let list = |paths: &[Path], make: &dyn Fn(&Path) -> TokenStream| {
        let items = paths.iter().map(|p| named(p, make(p)));
        quote!(&[#(#items),*])
    };
    let before_enqueue = list(&callbacks.before_enqueue, &|p| callback(private, p, true));
    let after_enqueue = list(&callbacks.after_enqueue, &|p| callback(private, p, true));
    let before_perform = list(&callbacks.before_perform, &|p| callback(private, p, false));
    let after_perform = list(&callbacks.after_perform, &|p| callback(private, p, false));
    let around_enqueue = list(&callbacks.around_enqueue, &|p| around(private, p, true));
    let around_perform = list(&callbacks.around_perform, &|p| around(private, p, false));
    quote! {
        #timeout
        const DECLARATIONS: &'static #private::Declarations = &#private::Declarations {
            error_handlers: &[#(#handlers),*],
            after_discard: &[#(#after_discard),*],
            before_enqueue: #before_enqueue,
            around_enqueue: #around_enqueue,
            after_enqueue: #after_enqueue,
            before_perform: #before_perform,
            around_perform: #around_perform,
            after_perform: #after_perform,
        };
    }
}

/// `("path::of::f", function)`: callbacks carry their name for instrumentation.
fn named(path: &Path, function: TokenStream) -> TokenStream {
    let name = quote!(#path).to_string().replace(' ', "");
    quote!((#name, #function))
}

/// A `before_*` / `after_*` callback on `&JobData` (enqueue) or `&JobContext` (perform).
fn callback(private: &TokenStream, f: &Path, enqueue: bool) -> TokenStream {
    let (subject, alias) = if enqueue {
        (quote!(#private::JobData), quote!(#private::EnqueueCallbackFn))
    } else {
        (quote!(#private::JobContext), quote!(#private::PerformCallbackFn))
    };
    quote_spanned! {f.span()=>
        {
            fn __jobs_callback<'a>(
                subject: &'a #subject,
            ) -> #private::BoxFuture<'a, ::core::result::Result<(), #private::Halt>> {
                ::std::boxed::Box::pin(async move { #private::CallbackResult::into_flow(#f(subject).await) })
            }
            __jobs_callback as #alias
        }
    }
}

/// An `around_*` callback, given the job and the rest of the chain.
fn around(private: &TokenStream, f: &Path, enqueue: bool) -> TokenStream {
    let (subject, next, error, alias) = if enqueue {
        (
            quote!(#private::JobData),
            quote!(#private::NextEnqueue<'a>),
            quote!(#private::Error),
            quote!(#private::AroundEnqueueFn),
        )
    } else {
        (
            quote!(#private::JobContext),
            quote!(#private::NextPerform<'a>),
            quote!(#private::JobError),
            quote!(#private::AroundPerformFn),
        )
    };
    quote_spanned! {f.span()=>
        {
            fn __jobs_around<'a>(
                subject: &'a #subject,
                next: #next,
            ) -> #private::BoxFuture<'a, ::core::result::Result<(), #error>> {
                ::std::boxed::Box::pin(#f(subject, next))
            }
            __jobs_around as #alias
        }
    }
}
