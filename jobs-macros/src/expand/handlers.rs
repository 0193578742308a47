//! The error handlers of `retry_on`, `discard_on` and `rescue_from`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use crate::parse::model::{HandlerDecl, Match, WaitSpec};

/// One `ErrorHandler` of `DECLARATIONS.error_handlers`.
pub(crate) fn handler(private: &TokenStream, decl: &HandlerDecl) -> TokenStream {
    match decl {
        HandlerDecl::RetryOn { matches, attempts, wait, jitter, queue, priority, with } => {
            let key = matches.key();
            let matches = matcher(private, matches);
            let wait = match wait {
                WaitSpec::Fixed(d) => {
                    let nanos = d.as_nanos() as u64;
                    quote!(#private::Wait::Fixed(::core::time::Duration::from_nanos(#nanos)))
                }
                WaitSpec::PolynomiallyLonger => quote!(#private::Wait::PolynomiallyLonger),
                WaitSpec::Exponential => quote!(#private::Wait::Exponential),
                WaitSpec::Custom(f) => quote_spanned!(f.span()=> #private::Wait::Custom(#f)),
            };
            let attempts = option(*attempts);
            let jitter = option(*jitter);
            let queue = option(queue.as_deref());
            let priority = option(*priority);
            let exhausted = option(with.as_ref().map(|f| error_handler(private, f)));
            quote! {
                #private::ErrorHandler::RetryOn(#private::RetryOn {
                    key: #key,
                    matches: #matches,
                    attempts: #attempts,
                    wait: #wait,
                    jitter: #jitter,
                    queue: #queue,
                    priority: #priority,
                    exhausted: #exhausted,
                })
            }
        }
        HandlerDecl::DiscardOn { matches, with } => {
            let matches = matcher(private, matches);
            let handler = option(with.as_ref().map(|f| error_handler(private, f)));
            quote!(#private::ErrorHandler::DiscardOn { matches: #matches, handler: #handler })
        }
        HandlerDecl::RescueFrom { matches, with } => {
            let matches = matcher(private, matches);
            let handler = error_handler(private, with);
            quote!(#private::ErrorHandler::RescueFrom { matches: #matches, handler: #handler })
        }
    }
}

/// A `Matcher`: errors of any of the types (each spanned on its type), or the predicate.
fn matcher(private: &TokenStream, matches: &Match) -> TokenStream {
    match matches {
        Match::Types(types) => {
            let span = types.first().map_or_else(proc_macro2::Span::call_site, |t| t.span());
            let checks = types.iter().map(|ty| quote_spanned!(ty.span()=> #private::JobError::is::<#ty>(error)));
            quote_spanned! {span=>
                {
                    fn __jobs_matches(error: &#private::JobError) -> bool {
                        #(#checks)||*
                    }
                    __jobs_matches as #private::Matcher
                }
            }
        }
        Match::Predicate(f) => quote_spanned! {f.span()=> #f as #private::Matcher },
    }
}

/// An `ErrorHandlerFn` calling `f(ctx, error)`.
pub(crate) fn error_handler(private: &TokenStream, f: &Path) -> TokenStream {
    quote_spanned! {f.span()=>
        {
            fn __jobs_handler<'a>(
                ctx: &'a #private::JobContext,
                error: &'a #private::JobError,
            ) -> #private::BoxFuture<'a, ::core::result::Result<(), #private::JobError>> {
                ::std::boxed::Box::pin(async move {
                    #private::JobResult::into_job_result(#f(ctx, error).await).map(|_| ())
                })
            }
            __jobs_handler as #private::ErrorHandlerFn
        }
    }
}

fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
