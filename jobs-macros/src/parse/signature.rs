//! Reads the job function's signature: which parameters are serialized and which injected.

use quote::format_ident;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use super::model::{JobFn, Param, ParamKind};
use crate::ctxt::Ctxt;

/// The most serialized parameters a job may take (`jobs::MAX_ARGUMENTS`).
const MAX_ARGUMENTS: usize = 12;

/// Checks the function and reads it, recording every problem in `cx`.
pub(crate) fn parse(cx: &Ctxt, item: &ItemFn) -> JobFn {
    let sig = &item.sig;
    let mut complete = true;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "#[job] functions must be async: write `async fn`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        complete = false;
        cx.error_spanned_by(
            &sig.generics,
            "#[job] functions cannot be generic: a worker must know the concrete argument types to decode them",
        );
    }
    if let Some(variadic) = &sig.variadic {
        complete = false;
        cx.error_spanned_by(variadic, "#[job] functions cannot be variadic");
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                complete = false;
                cx.error_spanned_by(
                    receiver,
                    "#[job] goes on a free function, not a method: remove `self` and pass what the job needs as arguments or `State<T>`",
                )
            }
            FnArg::Typed(typed) => {
                let ident = match &*typed.pat {
                    Pat::Ident(p) if p.subpat.is_none() => p.ident.clone(),
                    other => {
                        complete = false;
                        cx.error_spanned_by(other, "job parameters must be plain names such as `user_id: i64`");
                        continue;
                    }
                };
                match kind_of(cx, &typed.ty) {
                    Some(kind) => params.push(Param { ident, ty: (*typed.ty).clone(), kind }),
                    None => complete = false,
                }
            }
        }
    }
    let arguments = params.iter().filter(|p| matches!(p.kind, ParamKind::Argument)).count();
    if arguments > MAX_ARGUMENTS {
        cx.error_spanned_by(
            &sig.inputs,
            format_args!("a job takes at most {MAX_ARGUMENTS} serialized arguments; group them in a struct"),
        );
    }
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    JobFn {
        vis: item.vis.clone(),
        fn_ident: sig.ident.clone(),
        struct_ident: format_ident!("{}", upper_camel(&sig.ident), span = sig.ident.span()),
        docs: item.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect(),
        params,
        output,
        is_async: sig.asyncness.is_some(),
        callee: None,
        complete,
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn kind_of(cx: &Ctxt, ty: &Type) -> Option<ParamKind> {
    match ty {
        Type::Reference(reference) => {
            if last_segment(&reference.elem).as_deref() == Some("JobContext") {
                return Some(ParamKind::ContextRef);
            }
            let owned = match &*reference.elem {
                Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
                Type::Slice(s) => format!("Vec<{}>", quote::ToTokens::to_token_stream(&s.elem)),
                other => quote::ToTokens::to_token_stream(other).to_string(),
            };
            cx.error_spanned_by(
                ty,
                format_args!(
                    "job arguments cannot be references: they are stored as JSON and decoded by the worker; take `{owned}` instead"
                ),
            );
            None
        }
        Type::ImplTrait(_) => {
            cx.error_spanned_by(ty, "#[job] functions cannot be generic: use a concrete type instead of `impl Trait`");
            None
        }
        _ => match last_segment(ty).as_deref() {
            Some("State") => Some(ParamKind::State),
            Some("JobContext") => Some(ParamKind::Context),
            _ => Some(ParamKind::Argument),
        },
    }
}

/// `send_welcome_email` -> `SendWelcomeEmail`.
pub(crate) fn upper_camel(ident: &Ident) -> String {
    let text = ident.to_string();
    let text = text.trim_start_matches("r#");
    text.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_struct_in_upper_camel_case() {
        assert_eq!(upper_camel(&format_ident!("send_welcome_email")), "SendWelcomeEmail");
        assert_eq!(upper_camel(&format_ident!("_private_job")), "PrivateJob");
        assert_eq!(upper_camel(&format_ident!("already")), "Already");
    }

    #[test]
    fn sorts_parameters_by_kind() {
        let item: ItemFn = syn::parse_quote! {
            async fn f(a: String, s: State<Pool>, c: &JobContext, d: jobs::JobContext) {}
        };
        let cx = Ctxt::new();
        let f = parse(&cx, &item);
        assert!(cx.check().is_ok());
        let kinds: Vec<_> = f.params.iter().map(|p| std::mem::discriminant(&p.kind)).collect();
        assert_eq!(kinds[0], std::mem::discriminant(&ParamKind::Argument));
        assert_eq!(kinds[1], std::mem::discriminant(&ParamKind::State));
        assert_eq!(kinds[2], std::mem::discriminant(&ParamKind::ContextRef));
        assert_eq!(kinds[3], std::mem::discriminant(&ParamKind::Context));
        assert_eq!(f.arguments().count(), 1);
    }

    #[test]
    fn suggests_owned_types_for_references() {
        let item: ItemFn = syn::parse_quote! { async fn f(a: &str, b: &[u8]) {} };
        let cx = Ctxt::new();
        parse(&cx, &item);
        let messages: Vec<String> = cx.check().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert!(messages[0].ends_with("take `String` instead"), "{messages:?}");
        assert!(messages[1].ends_with("take `Vec<u8>` instead"), "{messages:?}");
    }
}
