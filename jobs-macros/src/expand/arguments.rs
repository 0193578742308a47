//! How each argument is encoded, decoded and, for records, loaded.
//!
//! Each serialized argument gets one codec function returning its encoder and decoder together:
//! both are picked by the same method resolution in one body, so that an argument type that
//! cannot be serialized is reported once, on the parameter's type, and not once per direction.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::model::{JobFn, Param, ParamKind};

fn codec_ident(param: &Param) -> Ident {
    format_ident!("__jobs_codec_{}", param.ident)
}

/// One `fn __jobs_codec_<argument>() -> (encoder, decoder)` per serialized argument.
pub(crate) fn codecs(private: &TokenStream, job: &JobFn) -> TokenStream {
    let codecs = job.arguments().map(|p| {
        let (ident, ty) = (codec_ident(p), &p.ty);
        // Spanned like the type, so that a type error points at the type alone.
        quote_spanned! {ty.span()=>
            #[allow(clippy::type_complexity)]
            fn #ident() -> (
                fn(&#private::EncodeContext<'_>, &str, &str, &#ty) -> ::core::result::Result<#private::Value, #private::Error>,
                fn(&mut #private::ArgumentsReader, &str) -> ::core::result::Result<#ty, #private::Error>,
            ) {
                // Records, then Active Job's own encoding where the type has one (times, ...),
                // serde otherwise.
                #[allow(unused_imports)]
                use #private::{ViaRecord as _, ViaRich as _, ViaSerde as _};
                (
                    |cx, job, argument, value| (&&&#private::Codec::<#ty>::new()).encode(cx, job, argument, value),
                    |reader, argument| (&&&#private::Codec::<#ty>::new()).decode(reader, argument),
                )
            }
        }
    });
    quote!(#(#codecs)*)
}

/// The expressions of `to_arguments`' vector, reading `self` and the encoding context `cx`.
pub(crate) fn encode(private: &TokenStream, job: &JobFn) -> Vec<TokenStream> {
    job.arguments()
        .map(|p| {
            let (codec, field, label) = (codec_ident(p), &p.ident, p.ident.to_string());
            quote!((#codec().0)(cx, <Self as #private::Job>::NAME, #label, &self.#field)?)
        })
        .collect()
}

/// The field initializers of `from_arguments`, reading `reader`.
pub(crate) fn decode(job: &JobFn) -> Vec<TokenStream> {
    job.arguments()
        .map(|p| {
            let (codec, field, label) = (codec_ident(p), &p.ident, p.ident.to_string());
            quote!(#field: (#codec().1)(&mut reader, #label)?)
        })
        .collect()
}

/// Statements of `perform` that bind the injected parameters and load records.
pub(crate) fn injections(private: &TokenStream, job: &JobFn) -> TokenStream {
    let statements = job.params.iter().filter_map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        match p.kind {
            ParamKind::State => Some(quote_spanned! {ty.span()=>
                let #ident = <#ty>::from_context(&__jobs_ctx)?;
            }),
            // Records (`Global<T>`, and options and vecs of them) are loaded here; nothing else is.
            ParamKind::Argument => {
                let label = ident.to_string();
                Some(quote_spanned! {ty.span()=>
                    let #ident = {
                        #[allow(unused_imports)]
                        use #private::{ViaLocate as _, ViaNoLocate as _};
                        (&&#private::Locator::<#ty>::new()).locate(#ident, &__jobs_ctx, #label)
                    }
                    .await?;
                })
            }
            ParamKind::ContextRef | ParamKind::Context => None,
        }
    });
    quote!(#(#statements)*)
}

/// The job function's arguments, in order.
pub(crate) fn call_args(job: &JobFn) -> Vec<TokenStream> {
    job.params
        .iter()
        .map(|p| {
            let ident = &p.ident;
            match p.kind {
                ParamKind::Argument | ParamKind::State => quote!(#ident),
                ParamKind::ContextRef => quote!(&__jobs_ctx),
                ParamKind::Context => quote!(::core::clone::Clone::clone(&__jobs_ctx)),
            }
        })
        .collect()
}
