//! Parses the keys of `#[job(...)]`.

use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitBool, LitStr, Meta, Path, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::handlers::{HandlerDecl, parse_duration, parse_handler, parse_paths};

/// The keys `#[job]` accepts, in the order the error message lists them.
pub(crate) const VALID_KEYS: &str = "queue, priority, name, log_arguments, timeout, retry_on, discard_on, \
     rescue_from, after_discard, before_enqueue, around_enqueue, after_enqueue, before_perform, around_perform, \
     after_perform, crate";

/// The callback keys, each naming one function or a list of them.
pub(crate) const CALLBACK_KEYS: [&str; 7] = [
    "after_discard",
    "before_enqueue",
    "around_enqueue",
    "after_enqueue",
    "before_perform",
    "around_perform",
    "after_perform",
];

/// The attribute's settings; `None` where a key was not given.
#[derive(Default)]
pub(crate) struct JobAttrs {
    pub(crate) queue: Option<LitStr>,
    pub(crate) priority: Option<i32>,
    pub(crate) name: Option<LitStr>,
    pub(crate) log_arguments: Option<LitBool>,
    pub(crate) timeout: Option<std::time::Duration>,
    pub(crate) krate: Option<Path>,
    /// `retry_on`, `discard_on`, `rescue_from`, in declaration order.
    pub(crate) handlers: Vec<HandlerDecl>,
    /// Callback key and the functions it names, for each callback key given.
    pub(crate) callbacks: Vec<(String, Vec<Path>)>,
}

impl JobAttrs {
    /// The functions named by callback `key`.
    pub(crate) fn callbacks(&self, key: &str) -> &[Path] {
        self.callbacks.iter().find(|(k, _)| k == key).map_or(&[], |(_, paths)| paths.as_slice())
    }
}

impl JobAttrs {
    /// Parses `queue = "..", priority = N, ...`, recording every mistake in `cx`.
    pub(crate) fn parse(cx: &mut Ctxt, tokens: proc_macro2::TokenStream) -> JobAttrs {
        let mut attrs = JobAttrs::default();
        let metas = match syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, tokens) {
            Ok(metas) => metas,
            Err(error) => {
                cx.push(error);
                return attrs;
            }
        };
        let mut seen: Vec<String> = Vec::new();
        for meta in metas {
            let path = meta.path();
            let Some(key) = path.get_ident().map(ToString::to_string) else {
                cx.error_spanned_by(path, format_args!("unknown key; valid keys are: {VALID_KEYS}"));
                continue;
            };
            if !VALID_KEYS.split(", ").any(|k| k.trim() == key) {
                cx.error_spanned_by(path, format_args!("unknown key `{key}`; valid keys are: {VALID_KEYS}"));
                continue;
            }
            if matches!(key.as_str(), "retry_on" | "discard_on" | "rescue_from") {
                attrs.handlers.extend(parse_handler(cx, &key, &meta));
                continue;
            }
            if seen.contains(&key) {
                let hint = if CALLBACK_KEYS.contains(&key.as_str()) {
                    "; name several functions as a list `[a, b]`"
                } else {
                    ""
                };
                cx.error_spanned_by(path, format_args!("duplicate key `{key}`: give each key once{hint}"));
                continue;
            }
            seen.push(key.clone());
            let value = match &meta {
                Meta::NameValue(nv) => &nv.value,
                _ => {
                    cx.error_spanned_by(&meta, format_args!("`{key}` needs a value: `{key} = {}`", example(&key)));
                    continue;
                }
            };
            match key.as_str() {
                "queue" => attrs.queue = non_empty_str(cx, &key, value),
                "name" => attrs.name = non_empty_str(cx, &key, value),
                "priority" => attrs.priority = int(cx, value),
                "log_arguments" => match value {
                    Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => attrs.log_arguments = Some(b.clone()),
                    _ => cx.error_spanned_by(value, "`log_arguments` expects `true` or `false`"),
                },
                "timeout" => attrs.timeout = parse_duration(cx, "timeout", value),
                callback if CALLBACK_KEYS.contains(&callback) => {
                    let paths = parse_paths(cx, callback, value);
                    attrs.callbacks.push((key.clone(), paths));
                }
                "crate" => {
                    if let Some(lit) = str_lit(cx, &key, value) {
                        match lit.parse::<Path>() {
                            Ok(path) => attrs.krate = Some(path),
                            Err(_) => {
                                cx.error_spanned_by(&lit, "`crate` expects a path such as `\"::my_facade::jobs\"`")
                            }
                        }
                    }
                }
                _ => unreachable!("key checked against VALID_KEYS"),
            }
        }
        attrs
    }
}

fn example(key: &str) -> &'static str {
    match key {
        "priority" => "10",
        "log_arguments" => "false",
        "crate" => "\"::jobs\"",
        "timeout" => "\"30s\"",
        "after_discard" | "before_enqueue" | "around_enqueue" | "after_enqueue" | "before_perform"
        | "around_perform" | "after_perform" => "my_callback",
        _ => "\"...\"",
    }
}

fn str_lit(cx: &mut Ctxt, key: &str, value: &Expr) -> Option<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.clone()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects a string literal: `{key} = \"...\"`"));
            None
        }
    }
}

fn non_empty_str(cx: &mut Ctxt, key: &str, value: &Expr) -> Option<LitStr> {
    let lit = str_lit(cx, key, value)?;
    let text = lit.value();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        cx.error_spanned_by(&lit, format_args!("`{key}` must be a non-empty name without spaces"));
        return None;
    }
    Some(lit)
}

fn int(cx: &mut Ctxt, value: &Expr) -> Option<i32> {
    let (negative, lit) = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => (false, i),
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => match &**expr {
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => (true, i),
            _ => {
                cx.error_spanned_by(value, "`priority` expects an integer literal such as `10`");
                return None;
            }
        },
        _ => {
            cx.error_spanned_by(value, "`priority` expects an integer literal such as `10`");
            return None;
        }
    };
    let parsed = lit.base10_parse::<i64>().ok().map(|v| if negative { -v } else { v });
    match parsed.and_then(|v| i32::try_from(v).ok()) {
        Some(v) => Some(v),
        None => {
            cx.error_spanned_by(value, "`priority` must fit in an i32");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let mut cx = Ctxt::default();
        JobAttrs::parse(&mut cx, tokens);
        cx.finish().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    #[test]
    fn reads_every_key() {
        let mut cx = Ctxt::default();
        let attrs = JobAttrs::parse(
            &mut cx,
            quote!(queue = "mailers", priority = -5, name = "MailJob", log_arguments = false, crate = "::x::jobs"),
        );
        assert!(cx.finish().is_none());
        assert_eq!(attrs.queue.unwrap().value(), "mailers");
        assert_eq!(attrs.priority, Some(-5));
        assert_eq!(attrs.name.unwrap().value(), "MailJob");
        assert!(!attrs.log_arguments.unwrap().value);
        assert!(attrs.krate.is_some());
    }

    #[test]
    fn reports_all_mistakes_at_once() {
        let found = errors(quote!(queu = "x", priority = "high", queue = "a", queue = "b"));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("unknown key `queu`; valid keys are: queue, priority"), "{found:?}");
        assert!(found[1].contains("integer literal"));
        assert!(found[2].contains("duplicate key `queue`"));
    }
}
