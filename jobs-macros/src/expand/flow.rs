//! A job's `FLOW` (concurrency limit, uniqueness, throttle) and its `flow_key` method, which
//! computes the keys the declarations give from the job struct.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::model::{ConcurrencySpec, JobAttrs, KeyFn, StateName, ThrottleSpec, UniqueSpec};

/// `const FLOW` and `fn flow_key` for the `Job` impl; nothing when no flow control is declared.
pub(crate) fn items(private: &TokenStream, attrs: &JobAttrs) -> TokenStream {
    let (concurrency, unique, throttle) = (&attrs.concurrency, &attrs.unique, &attrs.throttle);
    if concurrency.is_none() && unique.is_none() && throttle.is_none() {
        return TokenStream::new();
    }
    let some = |tokens: Option<TokenStream>| match tokens {
        Some(tokens) => quote!(::core::option::Option::Some(#tokens)),
        None => quote!(::core::option::Option::None),
    };
    let concurrency_value = some(concurrency.as_ref().map(|spec| concurrency_limit(private, spec)));
    let unique_value = some(unique.as_ref().map(|spec| unique_job(private, spec)));
    let throttle_value = some(throttle.as_ref().map(|spec| throttle_of(private, spec)));
    let arms = [
        (quote!(Concurrency), concurrency.as_ref().and_then(|c| c.key.as_ref())),
        (quote!(Unique), unique.as_ref().and_then(|u| u.key.as_ref())),
        (quote!(Throttle), throttle.as_ref().and_then(|t| t.key.as_ref())),
    ];
    let arms = arms.iter().filter_map(|(variant, key)| {
        let key = key_expr(key.as_ref()?);
        Some(quote!(#private::FlowKey::#variant => ::core::option::Option::Some(#key),))
    });
    quote! {
        const FLOW: #private::FlowControl = #private::FlowControl {
            concurrency: #concurrency_value,
            unique: #unique_value,
            throttle: #throttle_value,
        };

        #[allow(unused_variables, clippy::match_single_binding)]
        fn flow_key(&self, which: #private::FlowKey) -> ::core::option::Option<::std::string::String> {
            match which {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
}

fn duration(d: std::time::Duration) -> TokenStream {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    quote!(::core::time::Duration::from_nanos(#nanos))
}

fn concurrency_limit(private: &TokenStream, spec: &ConcurrencySpec) -> TokenStream {
    let to = spec.to;
    let duration = match spec.duration {
        Some(d) => duration(d),
        None => quote!(#private::ConcurrencyLimit::DEFAULT_DURATION),
    };
    let on_conflict = if spec.discard { quote!(Discard) } else { quote!(Block) };
    let group = match &spec.group {
        Some(group) => quote!(::core::option::Option::Some(#group)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #private::ConcurrencyLimit {
            to: #to,
            duration: #duration,
            on_conflict: #private::OnConflict::#on_conflict,
            group: #group,
        }
    }
}

fn unique_job(private: &TokenStream, spec: &UniqueSpec) -> TokenStream {
    let (args, queue, class) = spec.by.unwrap_or((true, true, true));
    let period = match spec.period {
        Some(d) => {
            let d = duration(d);
            quote!(::core::option::Option::Some(#d))
        }
        None => quote!(::core::option::Option::None),
    };
    let states = match &spec.states {
        Some(states) => {
            let states = states.iter().map(|state| match state {
                StateName::Scheduled => quote!(#private::JobState::Scheduled),
                StateName::Ready => quote!(#private::JobState::Ready),
                StateName::Blocked => quote!(#private::JobState::Blocked),
                StateName::Running => quote!(#private::JobState::Running),
                StateName::Retrying => quote!(#private::JobState::Retrying),
            });
            quote!(&[#(#states),*])
        }
        None => quote!(#private::UniqueJob::ALL_STATES),
    };
    quote! {
        #private::UniqueJob {
            by: #private::UniqueBy { args: #args, queue: #queue, class: #class },
            period: #period,
            states: #states,
        }
    }
}

fn throttle_of(private: &TokenStream, spec: &ThrottleSpec) -> TokenStream {
    let limit = spec.limit;
    let period = duration(spec.period);
    quote!(#private::Throttle { limit: #limit, period: #period })
}

/// The key as a `String`: the closure's body evaluated with its parameter bound to `self` (as a
/// place, so that `job.name` borrows), or the function called with `self`; then `Display`ed.
fn key_expr(key: &KeyFn) -> TokenStream {
    match key {
        KeyFn::Closure(closure) => {
            let (pat, body) = &**closure;
            let binding = match pat {
                syn::Pat::Type(_) => quote!(let #pat = self;),
                _ => quote!(let #pat: &Self = self;),
            };
            let to_string = quote_spanned!(body.span()=> ::std::string::ToString::to_string(&(#body)));
            quote!({ #binding #to_string })
        }
        KeyFn::Path(path) => quote_spanned!(path.span()=> ::std::string::ToString::to_string(&#path(self))),
    }
}
