//! Generates a job's `DECLARATIONS` (error handlers and callbacks) and `TIMEOUT`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;

use crate::attr::JobAttrs;
use crate::handlers::{HandlerDecl, Match, WaitSpec, span_of};

/// `const DECLARATIONS` and `const TIMEOUT` items for the `Job` impl (empty when nothing is declared).
pub(crate) fn items(krate: &Path, attrs: &JobAttrs) -> TokenStream {
    let timeout = attrs.timeout.map(|t| {
        let nanos = t.as_nanos() as u64;
        quote! {
            const TIMEOUT: ::core::option::Option<::core::time::Duration> =
                ::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos));
        }
    });
    if attrs.handlers.is_empty() && attrs.callbacks.is_empty() {
        return quote!(#timeout);
    }
    let handlers = attrs.handlers.iter().map(|h| handler(krate, h));
    let after_discard = attrs.callbacks("after_discard").iter().map(|p| error_handler(krate, p));
    let enqueue = |key: &str| {
        let list = attrs.callbacks(key).iter().map(|p| named(p, callback(krate, p, true)));
        quote!(&[#(#list),*])
    };
    let perform = |key: &str| {
        let list = attrs.callbacks(key).iter().map(|p| named(p, callback(krate, p, false)));
        quote!(&[#(#list),*])
    };
    let around_enqueue = attrs.callbacks("around_enqueue").iter().map(|p| named(p, around(krate, p, true)));
    let around_perform = attrs.callbacks("around_perform").iter().map(|p| named(p, around(krate, p, false)));
    let (before_enqueue, after_enqueue) = (enqueue("before_enqueue"), enqueue("after_enqueue"));
    let (before_perform, after_perform) = (perform("before_perform"), perform("after_perform"));
    quote! {
        #timeout
        const DECLARATIONS: &'static #krate::__private::Declarations = &#krate::__private::Declarations {
            error_handlers: &[#(#handlers),*],
            after_discard: &[#(#after_discard),*],
            before_enqueue: #before_enqueue,
            around_enqueue: &[#(#around_enqueue),*],
            after_enqueue: #after_enqueue,
            before_perform: #before_perform,
            around_perform: &[#(#around_perform),*],
            after_perform: #after_perform,
        };
    }
}

fn named(path: &Path, function: TokenStream) -> TokenStream {
    let name = quote!(#path).to_string().replace(' ', "");
    quote!((#name, #function))
}

fn matcher(krate: &Path, matches: &Match) -> TokenStream {
    match matches {
        Match::Type(ty) => quote_spanned! {span_of(ty)=>
            {
                fn __jobs_matches(error: &#krate::__private::JobError) -> bool {
                    #krate::__private::JobError::is::<#ty>(error)
                }
                __jobs_matches as #krate::__private::Matcher
            }
        },
        Match::Predicate(f) => quote_spanned! {span_of(f)=> #f as #krate::__private::Matcher },
    }
}

fn error_handler(krate: &Path, f: &Path) -> TokenStream {
    quote_spanned! {span_of(f)=>
        {
            fn __jobs_handler<'a>(
                ctx: &'a #krate::__private::JobContext,
                error: &'a #krate::__private::JobError,
            ) -> #krate::__private::BoxFuture<'a, ::core::result::Result<(), #krate::__private::JobError>> {
                ::std::boxed::Box::pin(async move {
                    #krate::__private::JobResult::into_job_result(#f(ctx, error).await).map(|_| ())
                })
            }
            __jobs_handler as #krate::__private::ErrorHandlerFn
        }
    }
}

/// A `before_*` / `after_*` callback on `&JobData` (enqueue) or `&JobContext` (perform).
fn callback(krate: &Path, f: &Path, enqueue: bool) -> TokenStream {
    let (subject, alias) = if enqueue {
        (quote!(#krate::__private::JobData), quote!(#krate::__private::EnqueueCallbackFn))
    } else {
        (quote!(#krate::__private::JobContext), quote!(#krate::__private::PerformCallbackFn))
    };
    quote_spanned! {span_of(f)=>
        {
            fn __jobs_callback<'a>(
                subject: &'a #subject,
            ) -> #krate::__private::BoxFuture<'a, ::core::result::Result<(), #krate::__private::Halt>> {
                ::std::boxed::Box::pin(async move { #krate::__private::CallbackResult::into_flow(#f(subject).await) })
            }
            __jobs_callback as #alias
        }
    }
}

fn around(krate: &Path, f: &Path, enqueue: bool) -> TokenStream {
    let (subject, next, error, alias) = if enqueue {
        (
            quote!(#krate::__private::JobData),
            quote!(#krate::__private::NextEnqueue<'a>),
            quote!(#krate::__private::Error),
            quote!(#krate::__private::AroundEnqueueFn),
        )
    } else {
        (
            quote!(#krate::__private::JobContext),
            quote!(#krate::__private::NextPerform<'a>),
            quote!(#krate::__private::JobError),
            quote!(#krate::__private::AroundPerformFn),
        )
    };
    quote_spanned! {span_of(f)=>
        {
            fn __jobs_around<'a>(
                subject: &'a #subject,
                next: #next,
            ) -> #krate::__private::BoxFuture<'a, ::core::result::Result<(), #error>> {
                ::std::boxed::Box::pin(#f(subject, next))
            }
            __jobs_around as #alias
        }
    }
}

fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn handler(krate: &Path, decl: &HandlerDecl) -> TokenStream {
    match decl {
        HandlerDecl::RetryOn { matches, attempts, wait, jitter, queue, priority, with } => {
            let key = matches.key();
            let matches = matcher(krate, matches);
            let wait = match wait {
                WaitSpec::Fixed(d) => {
                    let nanos = d.as_nanos() as u64;
                    quote!(#krate::__private::Wait::Fixed(::core::time::Duration::from_nanos(#nanos)))
                }
                WaitSpec::PolynomiallyLonger => quote!(#krate::__private::Wait::PolynomiallyLonger),
                WaitSpec::Exponential => quote!(#krate::__private::Wait::Exponential),
                WaitSpec::Custom(f) => quote_spanned!(span_of(f)=> #krate::__private::Wait::Custom(#f)),
            };
            let attempts = option(*attempts);
            let jitter = option(*jitter);
            let queue = option(queue.as_deref());
            let priority = option(*priority);
            let exhausted = option(with.as_ref().map(|f| error_handler(krate, f)));
            quote! {
                #krate::__private::ErrorHandler::RetryOn(#krate::__private::RetryOn {
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
            let matches = matcher(krate, matches);
            let handler = option(with.as_ref().map(|f| error_handler(krate, f)));
            quote!(#krate::__private::ErrorHandler::DiscardOn { matches: #matches, handler: #handler })
        }
        HandlerDecl::RescueFrom { matches, with } => {
            let matches = matcher(krate, matches);
            let handler = error_handler(krate, with);
            quote!(#krate::__private::ErrorHandler::RescueFrom { matches: #matches, handler: #handler })
        }
    }
}
