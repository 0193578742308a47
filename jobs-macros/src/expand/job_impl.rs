//! The `Job` impl: the job's settings as constants, its arguments' encoding, and `perform`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use super::{arguments, declarations, flow};
use crate::parse::Model;
use crate::parse::model::ContinuableSpec;

/// `impl Job`, with the argument codecs it uses, in an unnamed `const` block of their own.
pub(crate) fn generate(private: &TokenStream, model: &Model) -> TokenStream {
    let (attrs, job) = (&model.attrs, &model.function);
    let struct_ident = &job.struct_ident;
    let output = &job.output;
    let name = attrs.name.clone().unwrap_or_else(|| LitStr::new(&struct_ident.to_string(), struct_ident.span()));
    let queue = attrs.queue.clone().unwrap_or_else(|| LitStr::new("default", struct_ident.span()));
    let priority = match attrs.priority {
        Some(p) => quote!(::core::option::Option::Some(#p)),
        None => quote!(::core::option::Option::None),
    };
    let log_arguments = attrs.log_arguments.as_ref().is_none_or(|b| b.value);
    let declarations = declarations::items(private, attrs);
    let flow = flow::items(private, attrs);
    let continuable = continuable(private, attrs.continuable.as_ref());
    let cron = attrs
        .cron
        .as_ref()
        .map(|cron| quote!(const CRON: ::core::option::Option<&'static str> = ::core::option::Option::Some(#cron);));
    let codecs = arguments::codecs(private, job);
    let encode = arguments::encode(private, job);
    let decode = arguments::decode(job);
    let count = decode.len();
    let fields: Vec<_> = job.arguments().map(|p| &p.ident).collect();
    let perform = if job.is_async {
        let injections = arguments::injections(private, job);
        let fn_ident = &job.fn_ident;
        let callee = match &job.callee {
            Some(path) => quote!(#path),
            None => quote!(#fn_ident),
        };
        let call_args = arguments::call_args(job);
        quote! {
            let Self { #(#fields),* } = self;
            #injections
            ::core::result::Result::Ok(#callee(#(#call_args),*).await)
        }
    } else {
        // Already reported: the function cannot be awaited. Keep the impl so that call sites
        // compile, without a follow-on error here.
        quote! {
            let _ = (self, __jobs_ctx);
            ::core::unreachable!()
        }
    };

    quote! {
        const _: () = {
            #codecs

            #[automatically_derived]
            impl #private::Job for #struct_ident {
                const NAME: &'static str = #name;
                const QUEUE: &'static str = #queue;
                const PRIORITY: ::core::option::Option<i32> = #priority;
                const LOG_ARGUMENTS: bool = #log_arguments;
                type Output = #output;
                #declarations
                #continuable
                #cron
                #flow

                fn to_arguments(&self, cx: &#private::EncodeContext<'_>)
                    -> ::core::result::Result<::std::vec::Vec<#private::Value>, #private::Error>
                {
                    let _ = cx;
                    ::core::result::Result::Ok(::std::vec![#(#encode),*])
                }

                fn from_arguments(arguments: ::std::vec::Vec<#private::Value>)
                    -> ::core::result::Result<Self, #private::Error>
                {
                    #[allow(unused_mut, unused_variables)]
                    let mut reader = #private::ArgumentsReader::new(
                        <Self as #private::Job>::NAME, arguments, #count,
                    )?;
                    ::core::result::Result::Ok(Self { #(#decode),* })
                }

                fn perform(self, __jobs_ctx: #private::JobContext)
                    -> impl ::core::future::Future<
                        Output = ::core::result::Result<Self::Output, #private::Error>,
                    > + ::core::marker::Send
                {
                    async move {
                        #perform
                    }
                }
            }
        };
    }
}

/// `const CONTINUABLE`, for `#[job(continuable)]`: Rails' defaults with the options given.
fn continuable(private: &TokenStream, spec: Option<&ContinuableSpec>) -> TokenStream {
    let Some(spec) = spec else { return TokenStream::new() };
    let max = spec.max_resumptions.map(|max| quote!(.max_resumptions(#max)));
    let wait = spec.resume_wait.map(|wait| {
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        quote!(.resume_wait(::core::time::Duration::from_nanos(#nanos)))
    });
    let errors = spec.resume_errors_after_advancing.map(|resume| quote!(.resume_errors_after_advancing(#resume)));
    let interval = spec.checkpoint_interval.map(|interval| {
        let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
        quote!(.checkpoint_interval(::core::time::Duration::from_nanos(#nanos)))
    });
    quote! {
        const CONTINUABLE: ::core::option::Option<#private::Continuable> =
            ::core::option::Option::Some(#private::Continuable::new() #max #wait #errors #interval);
    }
}
