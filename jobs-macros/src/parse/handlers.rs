//! Reads `retry_on(..)`, `discard_on(..)` and `rescue_from(..)`.
//!
//! Like Rails' `retry_on A, B`, several error types may lead: one declaration handles any of them,
//! with one attempt counter (its key is `[A, B]`, as Rails keys it).

use std::time::Duration;

use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Path, Token};

use super::attr::Attr;
use super::model::{HandlerDecl, Match, WaitSpec};
use super::symbol::{
    self, ATTEMPTS, DISCARD_KEYS, JITTER, MATCHES, PRIORITY, QUEUE, RESCUE_FROM, RETRY_KEYS, RETRY_ON, Symbol, WAIT,
    WITH,
};
use super::values;
use crate::ctxt::Ctxt;

/// Parses the inside of `kind(..)`, one of `retry_on`, `discard_on` or `rescue_from`.
pub(crate) fn parse(cx: &Ctxt, kind: Symbol, meta: &Meta) -> Option<HandlerDecl> {
    let Meta::List(list) = meta else {
        cx.error_spanned_by(meta, format_args!("`{kind}` takes arguments: `{kind}(ErrorType, ..)`"));
        return None;
    };
    let items = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(items) => items,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    let valid = if kind == RETRY_ON { RETRY_KEYS } else { DISCARD_KEYS };
    let mut types: Vec<Path> = Vec::new();
    let mut keyed = false;
    let mut matches = Attr::none(cx, MATCHES);
    let mut attempts = Attr::none(cx, ATTEMPTS);
    let mut wait = Attr::none(cx, WAIT);
    let mut jitter = Attr::none(cx, JITTER);
    let mut queue = Attr::none(cx, QUEUE);
    let mut priority = Attr::none(cx, PRIORITY);
    let mut with = Attr::none(cx, WITH);
    for item in &items {
        let nv = match item {
            Meta::Path(path) if !keyed => {
                types.push(path.clone());
                continue;
            }
            Meta::Path(path) => {
                cx.error_spanned_by(path, format_args!("error types go first: `{kind}(ErrorA, ErrorB, key = ..)`"));
                continue;
            }
            Meta::List(inner) => {
                let valid = symbol::list(valid);
                cx.error_spanned_by(inner, format_args!("unexpected list; valid keys are: {valid}"));
                continue;
            }
            Meta::NameValue(nv) => nv,
        };
        keyed = true;
        let Some(key) = valid.iter().copied().find(|k| nv.path == *k) else {
            let name = quote::ToTokens::to_token_stream(&nv.path).to_string().replace(' ', "");
            let valid = symbol::list(valid);
            cx.error_spanned_by(&nv.path, format_args!("unknown `{kind}` key `{name}`; valid keys are: {valid}"));
            continue;
        };
        let (path, value) = (&nv.path, &nv.value);
        match key {
            MATCHES if !types.is_empty() => {
                cx.error_spanned_by(path, "give either error types or `matches = predicate`, not both")
            }
            MATCHES if matches.first_time(path) => matches.set_parsed(values::path(cx, MATCHES, value)),
            WITH if with.first_time(path) => with.set_parsed(values::path(cx, WITH, value)),
            ATTEMPTS if attempts.first_time(path) => attempts.set_parsed(Some(parse_attempts(cx, value))),
            WAIT if wait.first_time(path) => wait.set_parsed(parse_wait(cx, value)),
            JITTER if jitter.first_time(path) => jitter.set_parsed(parse_jitter(cx, value)),
            QUEUE if queue.first_time(path) => queue.set_parsed(queue_name(cx, value)),
            PRIORITY if priority.first_time(path) => priority.set_parsed(values::priority(cx, value)),
            _ => {}
        }
    }
    let matches = match (types.is_empty(), matches.get()) {
        (false, _) => Match::Types(types),
        (true, Some(predicate)) => Match::Predicate(predicate),
        (true, None) => {
            cx.error_spanned_by(
                meta,
                format_args!("`{kind}` needs an error type or `matches = predicate`: `{kind}(SmtpError)`"),
            );
            return None;
        }
    };
    let with = with.get();
    Some(if kind == RETRY_ON {
        HandlerDecl::RetryOn {
            matches,
            attempts: attempts.get().unwrap_or(Some(5)),
            wait: wait.get().unwrap_or(WaitSpec::Fixed(Duration::from_secs(3))),
            jitter: jitter.get(),
            queue: queue.get(),
            priority: priority.get(),
            with,
        }
    } else if kind == RESCUE_FROM {
        let Some(with) = with else {
            cx.error_spanned_by(meta, "`rescue_from` needs a handler: `rescue_from(ErrorType, with = handler)`");
            return None;
        };
        HandlerDecl::RescueFrom { matches, with }
    } else {
        HandlerDecl::DiscardOn { matches, with }
    })
}

fn queue_name(cx: &Ctxt, value: &Expr) -> Option<String> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if !s.value().is_empty() => Some(s.value()),
        _ => {
            cx.error_spanned_by(value, "`queue` expects a non-empty string literal");
            None
        }
    }
}

/// `attempts = N` or `attempts = unlimited` (`None`).
fn parse_attempts(cx: &Ctxt, value: &Expr) -> Option<u32> {
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

fn parse_wait(cx: &Ctxt, value: &Expr) -> Option<WaitSpec> {
    match value {
        Expr::Path(p) if p.path.is_ident("polynomially_longer") => Some(WaitSpec::PolynomiallyLonger),
        Expr::Path(p) if p.path.is_ident("exponential") => Some(WaitSpec::Exponential),
        Expr::Path(p) if p.qself.is_none() => Some(WaitSpec::Custom(p.path.clone())),
        Expr::Lit(_) => values::duration(cx, WAIT, value).map(WaitSpec::Fixed),
        _ => {
            cx.error_spanned_by(
                value,
                "`wait` expects a duration (`\"30s\"`), `polynomially_longer`, `exponential`, or a function `fn(u32) -> Duration`",
            );
            None
        }
    }
}

fn parse_jitter(cx: &Ctxt, value: &Expr) -> Option<f64> {
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
