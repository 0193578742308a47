//! Reads `#[mailer(...)] impl UserMailer { ... }`: the mailer's settings and its actions, each
//! action read as a job function is.

use proc_macro2::TokenStream;
use quote::format_ident;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ImplItem, ItemFn, ItemImpl, Lit, LitStr, MetaNameValue, Path, Token, Type};

use super::model::{JobAttrs, Model};
use super::signature;
use crate::ctxt::Ctxt;

const KEYS: &str = "`name`, `from`, `reply_to`, `layout`, `crate`";

/// The attribute's settings.
#[derive(Default)]
pub(crate) struct MailerAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) from: Option<LitStr>,
    pub(crate) reply_to: Option<LitStr>,
    pub(crate) layout: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

/// One action: its index among the impl's items, and the job it is read as (named
/// `Mailer#action`, on queue `mailers`; never enqueued on its own).
pub(crate) struct Action {
    pub(crate) index: usize,
    pub(crate) job: Model,
}

/// What `#[mailer]` read.
pub(crate) struct MailerModel {
    pub(crate) attrs: MailerAttrs,
    /// The type the impl is for, and its last name (`UserMailer`).
    pub(crate) self_ty: Type,
    pub(crate) self_name: String,
    pub(crate) actions: Vec<Action>,
}

/// Reads the attribute and the impl block.
pub(crate) fn parse(cx: &Ctxt, args: TokenStream, item: &ItemImpl) -> MailerModel {
    let attrs = attrs(cx, args);
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(path, "#[mailer] goes on an inherent impl (`impl UserMailer { .. }`), not a trait impl");
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "#[mailer] impls cannot be generic: a worker looks the mailer up by name");
    }
    let self_name = match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let self_name = self_name.unwrap_or_else(|| {
        cx.error_spanned_by(&item.self_ty, "#[mailer] goes on the impl of a named type, e.g. `pub struct UserMailer;`");
        String::new()
    });
    let mut actions = Vec::new();
    for (index, impl_item) in item.items.iter().enumerate() {
        let ImplItem::Fn(method) = impl_item else { continue };
        if method.sig.asyncness.is_none() {
            continue; // a helper, kept as it is
        }
        if let Some(receiver) = method.sig.receiver() {
            cx.error_spanned_by(
                receiver,
                "mailer actions take no `self`: take what the mail needs as arguments (records as `Global<T>`)",
            );
            continue;
        }
        let function = ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let mut function = signature::parse(cx, &function);
        let action = &function.fn_ident;
        function.struct_ident = format_ident!("{}{}", self_name, signature::upper_camel(action), span = action.span());
        let hidden = hidden_ident(action);
        let self_ty = &item.self_ty;
        function.callee = Some(syn::parse_quote!(<#self_ty>::#hidden));
        let mailer_name = attrs.name.as_ref().map(LitStr::value).unwrap_or_else(|| self_name.clone());
        let job_attrs = JobAttrs {
            name: Some(LitStr::new(&format!("{mailer_name}#{action}"), action.span())),
            queue: Some(LitStr::new("mailers", action.span())),
            krate: attrs.krate.clone(),
            ..JobAttrs::default()
        };
        actions.push(Action { index, job: Model { attrs: job_attrs, function } });
    }
    if actions.is_empty() && !self_name.is_empty() {
        cx.error_spanned_by(
            &item.self_ty,
            "a mailer needs at least one action: an `async fn` returning `Result<Mail, E>`",
        );
    }
    MailerModel { attrs, self_ty: (*item.self_ty).clone(), self_name, actions }
}

/// The name the action's own function is kept under inside the impl.
pub(crate) fn hidden_ident(action: &syn::Ident) -> syn::Ident {
    format_ident!("__mailer_action_{}", action)
}

fn attrs(cx: &Ctxt, args: TokenStream) -> MailerAttrs {
    let mut attrs = MailerAttrs::default();
    let list = match Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args) {
        Ok(list) => list,
        Err(e) => {
            cx.syn_error(syn::Error::new(e.span(), format!("{e}; #[mailer] takes `key = \"value\"` pairs: {KEYS}")));
            return attrs;
        }
    };
    for meta in list {
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        let Expr::Lit(ExprLit { lit: Lit::Str(value), .. }) = &meta.value else {
            cx.error_spanned_by(&meta.value, format_args!("`{key}` takes a string literal"));
            continue;
        };
        let slot = match key.as_str() {
            "name" => &mut attrs.name,
            "from" => &mut attrs.from,
            "reply_to" => &mut attrs.reply_to,
            "layout" => &mut attrs.layout,
            "crate" => {
                match value.parse::<Path>() {
                    Ok(path) => attrs.krate = Some(path),
                    Err(_) => cx.error_spanned_by(value, "`crate` takes a path, e.g. \"::jobs\""),
                }
                continue;
            }
            _ => {
                cx.error_spanned_by(&meta.path, format_args!("unknown #[mailer] key; valid keys: {KEYS}"));
                continue;
            }
        };
        if slot.is_some() {
            cx.error_spanned_by(&meta.path, format_args!("`{key}` given twice"));
        }
        *slot = Some(value.clone());
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn read(args: TokenStream, item: ItemImpl) -> (MailerModel, Vec<String>) {
        let cx = Ctxt::new();
        let model = parse(&cx, args, &item);
        let errors = cx.check().err().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default();
        (model, errors)
    }

    #[test]
    fn async_fns_are_actions_and_helpers_stay() {
        let (model, errors) = read(
            quote!(from = "a@example.com", layout = "mailer"),
            syn::parse_quote! {
                impl UserMailer {
                    fn helper() -> u8 { 1 }
                    pub async fn welcome(user: Global<User>, note: String) -> Result<Mail, MailError> { todo!() }
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(model.self_name, "UserMailer");
        assert_eq!(model.actions.len(), 1);
        assert_eq!(model.actions[0].index, 1);
        assert_eq!(model.actions[0].job.function.struct_ident.to_string(), "UserMailerWelcome");
        assert_eq!(model.actions[0].job.attrs.name.as_ref().unwrap().value(), "UserMailer#welcome");
        assert_eq!(model.attrs.from.unwrap().value(), "a@example.com");
    }

    #[test]
    fn mistakes_are_all_reported() {
        let (_, errors) = read(
            quote!(form = "a@example.com", layout = 3),
            syn::parse_quote! {
                impl UserMailer {
                    async fn welcome(&self) -> Result<Mail, MailError> { todo!() }
                }
            },
        );
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("unknown #[mailer] key; valid keys: `name`"), "{errors:?}");
        assert_eq!(errors[1], "`layout` takes a string literal");
        assert!(errors[2].starts_with("mailer actions take no `self`"), "{errors:?}");
        assert!(errors[3].starts_with("a mailer needs at least one action"), "{errors:?}");
    }
}
