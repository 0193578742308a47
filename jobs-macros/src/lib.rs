//! The `#[job]` and `#[mailer]` attributes; use them through the `jobs` crate, which documents
//! them.
//!
//! `parse` reads the attribute and the function into a plain model, collecting every mistake in
//! a `ctxt::Ctxt`; `expand` turns the model into tokens. Both work on `proc_macro2` so they
//! can be unit-tested without a compiler.

use proc_macro::TokenStream;

mod ctxt;
mod expand;
mod parse;

/// Turns an `async fn` into a background job; see `jobs::job` for the documentation.
#[proc_macro_attribute]
pub fn job(attr: TokenStream, item: TokenStream) -> TokenStream {
    job2(attr.into(), item.into()).into()
}

/// [`job`] on `proc_macro2` tokens: parse, then expand with whatever errors parsing found.
fn job2(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            let error = syn::Error::new(error.span(), "#[job] goes on an `async fn`").to_compile_error();
            return quote::quote!(#item #error);
        }
    };
    let cx = ctxt::Ctxt::new();
    let model = parse::job(&cx, attr, &function);
    expand::job(&function, &model, cx.check().err())
}

/// Declares a mailer's actions; see `jobs::mailer::mailer` for the documentation.
#[proc_macro_attribute]
pub fn mailer(attr: TokenStream, item: TokenStream) -> TokenStream {
    mailer2(attr.into(), item.into()).into()
}

/// [`mailer`] on `proc_macro2` tokens.
fn mailer2(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let block: syn::ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(error) => {
            let error = syn::Error::new(error.span(), "#[mailer] goes on an `impl` block: `impl UserMailer { .. }`")
                .to_compile_error();
            return quote::quote!(#item #error);
        }
    };
    let cx = ctxt::Ctxt::new();
    let model = parse::mailer::parse(&cx, attr, &block);
    match cx.check() {
        Ok(()) => expand::mailer::generate(&block, &model),
        // The impl as written, so that editors keep working, and every error.
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote::quote!(#block #errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn keeps_the_item_when_it_is_no_function() {
        let out = super::job2(
            quote!(),
            quote!(
                struct S;
            ),
        )
        .to_string();
        assert!(out.starts_with("struct S ;"), "{out}");
        assert!(out.contains("goes on an `async fn`"), "{out}");
    }
}
