//! Parses the error-handling and callback keys: `retry_on(..)`, `discard_on(..)`,
//! `rescue_from(..)`, `after_discard = ..`, `before_perform = ..` and the like, and `timeout`.

use proc_macro2::Span;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Path, Token};

use crate::ctxt::Ctxt;

/// Which errors a declaration handles.
pub(crate) enum Match {
    /// `retry_on(SmtpError)`: errors of this type (anywhere in the source chain).
    Type(Path),
    /// `retry_on(matches = is_transient)`: errors for which the function returns true.
    Predicate(Path),
}

impl Match {
    /// The declaration's key in `exception_executions`, as Rails writes it: `[SmtpError]`.
    pub(crate) fn key(&self) -> String {
        let path = match self {
            Match::Type(p) | Match::Predicate(p) => p,
        };
        format!("[{}]", path.to_token_stream().to_string().replace(' ', ""))
    }
}

/// How long `retry_on` waits.
pub(crate) enum WaitSpec {
    Fixed(std::time::Duration),
    PolynomiallyLonger,
    Exponential,
    Custom(Path),
}

/// One of `retry_on`, `discard_on`, `rescue_from`.
pub(crate) enum HandlerDecl {
    RetryOn {
        matches: Match,
        attempts: Option<u32>,
        wait: WaitSpec,
        jitter: Option<f64>,
        queue: Option<String>,
        priority: Option<i32>,
        with: Option<Path>,
    },
    DiscardOn {
        matches: Match,
        with: Option<Path>,
    },
    RescueFrom {
        matches: Match,
        with: Path,
    },
}

const RETRY_KEYS: &str = "attempts, wait, jitter, queue, priority, with, matches";
const DISCARD_KEYS: &str = "with, matches";

/// Parses the inside of `retry_on(..)`, `discard_on(..)` or `rescue_from(..)`.
pub(crate) fn parse_handler(cx: &mut Ctxt, kind: &str, meta: &Meta) -> Option<HandlerDecl> {
    let Meta::List(list) = meta else {
        cx.error_spanned_by(meta, format_args!("`{kind}` takes arguments: `{kind}(ErrorType, ..)`"));
        return None;
    };
    let items = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(items) => items,
        Err(error) => {
            cx.push(error);
            return None;
        }
    };
    let valid = if kind == "retry_on" { RETRY_KEYS } else { DISCARD_KEYS };
    let mut matches = None;
    let (mut attempts, mut wait, mut jitter, mut queue, mut priority, mut with) =
        (Some(5), None, None, None, None, None);
    let mut seen: Vec<String> = Vec::new();
    for item in &items {
        match item {
            Meta::Path(path) if matches.is_none() && seen.is_empty() => matches = Some(Match::Type(path.clone())),
            Meta::Path(path) => cx.error_spanned_by(path, "the error type goes first, and only once"),
            Meta::NameValue(nv) => {
                let Some(key) =
                    nv.path.get_ident().map(ToString::to_string).filter(|k| valid.split(", ").any(|v| v == k))
                else {
                    let name = nv.path.to_token_stream().to_string();
                    cx.error_spanned_by(
                        &nv.path,
                        format_args!("unknown `{kind}` key `{name}`; valid keys are: {valid}"),
                    );
                    continue;
                };
                if seen.contains(&key) {
                    cx.error_spanned_by(&nv.path, format_args!("duplicate `{kind}` key `{key}`"));
                    continue;
                }
                seen.push(key.clone());
                let value = &nv.value;
                match key.as_str() {
                    "matches" if matches.is_some() => {
                        cx.error_spanned_by(&nv.path, "give either an error type or `matches = predicate`, not both")
                    }
                    "matches" => matches = path_value(cx, "matches", value).map(Match::Predicate),
                    "with" => with = path_value(cx, "with", value),
                    "attempts" => attempts = parse_attempts(cx, value),
                    "wait" => wait = parse_wait(cx, value),
                    "jitter" => jitter = parse_jitter(cx, value),
                    "queue" => queue = str_value(cx, "queue", value),
                    "priority" => priority = int_value(cx, value),
                    _ => unreachable!("checked against the valid keys"),
                }
            }
            Meta::List(inner) => cx.error_spanned_by(inner, format_args!("unexpected list; valid keys are: {valid}")),
        }
    }
    let Some(matches) = matches else {
        cx.error_spanned_by(
            meta,
            format_args!("`{kind}` needs an error type or `matches = predicate`: `{kind}(SmtpError)`"),
        );
        return None;
    };
    Some(match kind {
        "retry_on" => HandlerDecl::RetryOn {
            matches,
            attempts,
            wait: wait.unwrap_or(WaitSpec::Fixed(std::time::Duration::from_secs(3))),
            jitter,
            queue,
            priority,
            with,
        },
        "discard_on" => HandlerDecl::DiscardOn { matches, with },
        _ => match with {
            Some(with) => HandlerDecl::RescueFrom { matches, with },
            None => {
                cx.error_spanned_by(meta, "`rescue_from` needs a handler: `rescue_from(ErrorType, with = handler)`");
                return None;
            }
        },
    })
}

/// Parses `key = path` or `key = [path, path]` (callbacks, `after_discard`).
pub(crate) fn parse_paths(cx: &mut Ctxt, key: &str, value: &Expr) -> Vec<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => vec![p.path.clone()],
        Expr::Array(array) => array.elems.iter().filter_map(|e| path_value(cx, key, e)).collect(),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects a function: `{key} = my_callback` or `[a, b]`"));
            Vec::new()
        }
    }
}

/// Parses a duration: `"30s"`, `"500ms"`, `"5m"`, `"1h"`, or an integer number of seconds.
pub(crate) fn parse_duration(cx: &mut Ctxt, key: &str, value: &Expr) -> Option<std::time::Duration> {
    let parsed = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u64>().ok().map(std::time::Duration::from_secs),
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => duration_text(&s.value()),
        _ => None,
    };
    if parsed.is_none() {
        cx.error_spanned_by(
            value,
            format_args!("`{key}` expects a duration such as `\"30s\"`, `\"500ms\"`, `\"5m\"` or `\"1h\"`"),
        );
    }
    parsed
}

fn duration_text(text: &str) -> Option<std::time::Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = |s: u64| Some(std::time::Duration::from_secs(s));
    match unit.trim() {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "s" => secs(n),
        "m" => secs(n.checked_mul(60)?),
        "h" => secs(n.checked_mul(3600)?),
        "d" => secs(n.checked_mul(86_400)?),
        _ => None,
    }
}

fn path_value(cx: &mut Ctxt, key: &str, value: &Expr) -> Option<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects the path of a function"));
            None
        }
    }
}

fn str_value(cx: &mut Ctxt, key: &str, value: &Expr) -> Option<String> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if !s.value().is_empty() => Some(s.value()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects a non-empty string literal"));
            None
        }
    }
}

fn int_value(cx: &mut Ctxt, value: &Expr) -> Option<i32> {
    let (negative, expr) = match value {
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (true, &*u.expr),
        other => (false, other),
    };
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<i32>() {
            Ok(v) => Some(if negative { -v } else { v }),
            Err(_) => {
                cx.error_spanned_by(value, "`priority` must fit in an i32");
                None
            }
        },
        _ => {
            cx.error_spanned_by(value, "`priority` expects an integer literal such as `10`");
            None
        }
    }
}

fn parse_attempts(cx: &mut Ctxt, value: &Expr) -> Option<u32> {
    match value {
        Expr::Path(p) if p.path.is_ident("unlimited") => None,
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<u32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                cx.error_spanned_by(value, "`attempts` must be at least 1");
                Some(1)
            }
        },
        _ => {
            cx.error_spanned_by(value, "`attempts` expects a number or `unlimited`");
            Some(1)
        }
    }
}

fn parse_wait(cx: &mut Ctxt, value: &Expr) -> Option<WaitSpec> {
    match value {
        Expr::Path(p) if p.path.is_ident("polynomially_longer") => Some(WaitSpec::PolynomiallyLonger),
        Expr::Path(p) if p.path.is_ident("exponential") => Some(WaitSpec::Exponential),
        Expr::Path(p) if p.qself.is_none() => Some(WaitSpec::Custom(p.path.clone())),
        Expr::Lit(_) => parse_duration(cx, "wait", value).map(WaitSpec::Fixed),
        _ => {
            cx.error_spanned_by(
                value,
                "`wait` expects a duration (`\"30s\"`), `polynomially_longer`, `exponential`, or a function `fn(u32) -> Duration`",
            );
            None
        }
    }
}

fn parse_jitter(cx: &mut Ctxt, value: &Expr) -> Option<f64> {
    let parsed = match value {
        Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => f.base10_parse::<f64>().ok(),
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(j) if (0.0..=1.0).contains(&j) => Some(j),
        _ => {
            cx.error_spanned_by(value, "`jitter` expects a number between 0.0 and 1.0");
            None
        }
    }
}

/// A span for generated code that belongs to a declaration.
pub(crate) fn span_of(path: &Path) -> Span {
    syn::spanned::Spanned::span(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn parses_durations() {
        assert_eq!(duration_text("30s"), Some(std::time::Duration::from_secs(30)));
        assert_eq!(duration_text("250ms"), Some(std::time::Duration::from_millis(250)));
        assert_eq!(duration_text("2h"), Some(std::time::Duration::from_secs(7200)));
        assert_eq!(duration_text("2 weeks"), None);
        assert_eq!(duration_text("s"), None);
    }

    #[test]
    fn reads_a_full_retry_on() {
        let meta: Meta = parse_quote!(retry_on(
            SmtpError,
            attempts = 3,
            wait = polynomially_longer,
            jitter = 0.3,
            queue = "low",
            priority = -2,
            with = give_up
        ));
        let mut cx = Ctxt::default();
        let Some(HandlerDecl::RetryOn { matches, attempts, jitter, queue, priority, with, .. }) =
            parse_handler(&mut cx, "retry_on", &meta)
        else {
            panic!("not parsed");
        };
        assert!(cx.finish().is_none());
        assert_eq!(matches.key(), "[SmtpError]");
        assert_eq!((attempts, jitter, queue.as_deref(), priority), (Some(3), Some(0.3), Some("low"), Some(-2)));
        assert!(with.is_some());
    }

    #[test]
    fn reports_bad_handler_arguments() {
        let meta: Meta = parse_quote!(retry_on(SmtpError, tries = 3, jitter = 2.0));
        let mut cx = Ctxt::default();
        parse_handler(&mut cx, "retry_on", &meta);
        let errors: Vec<String> = cx.finish().unwrap().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("unknown `retry_on` key `tries`"));
        assert!(errors[1].contains("between 0.0 and 1.0"));
    }

    #[test]
    fn rescue_from_needs_a_handler() {
        let meta: Meta = parse_quote!(rescue_from(SmtpError));
        let mut cx = Ctxt::default();
        assert!(parse_handler(&mut cx, "rescue_from", &meta).is_none());
        assert!(cx.finish().unwrap().to_string().contains("needs a handler"));
    }
}
