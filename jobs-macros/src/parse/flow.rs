//! Reads the flow-control keys: `limits_concurrency(..)`, `unique` / `unique(..)` and
//! `throttle(..)`. Their inner keys include `for` and `while`, which are Rust keywords, so the
//! lists are read as `ident = expr` pairs rather than as `Meta`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, Meta, Token};

use super::attr::Attr;
use super::model::{ConcurrencySpec, KeyFn, StateName, ThrottleSpec, UniqueSpec};
use super::symbol::{self, *};
use super::values;
use crate::ctxt::Ctxt;

/// One `key = value` of a flow-control list; the key may be a keyword.
struct Item {
    key: Ident,
    value: Option<Expr>,
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = Ident::parse_any(input)?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            return Ok(Item { key, value: Some(input.parse()?) });
        }
        Ok(Item { key, value: None })
    }
}

/// The items of `name(..)`, or `None` after reporting; `Some(empty)` for a bare `unique`.
fn items(cx: &Ctxt, name: Symbol, meta: &Meta, bare_ok: bool) -> Option<Vec<Item>> {
    match meta {
        Meta::Path(path) if bare_ok => {
            let _ = path;
            Some(Vec::new())
        }
        Meta::List(list) => match list.parse_args_with(Punctuated::<Item, Token![,]>::parse_terminated) {
            Ok(items) => Some(items.into_iter().collect()),
            Err(error) => {
                cx.syn_error(error);
                None
            }
        },
        _ => {
            cx.error_spanned_by(meta, format_args!("`{name}` takes a list: {}", example(name)));
            None
        }
    }
}

fn example(name: Symbol) -> &'static str {
    match name {
        LIMITS_CONCURRENCY => "`limits_concurrency(to = 2, key = |job| job.account_id)`",
        UNIQUE => "`unique` or `unique(by = [args, queue], for = \"1h\")`",
        _ => "`throttle(limit = 10, period = \"1s\")`",
    }
}

/// The symbol `item.key` names among `keys`, or `None` after reporting it; reports a key given
/// without a value too.
fn known<'i>(cx: &Ctxt, name: Symbol, keys: &[Symbol], item: &'i Item) -> Option<(Symbol, &'i Expr)> {
    let valid = symbol::list(keys);
    let Some(key) = keys.iter().copied().find(|k| item.key == *k) else {
        let ident = &item.key;
        cx.error_spanned_by(ident, format_args!("unknown `{name}` key `{ident}`; valid keys are: {valid}"));
        return None;
    };
    match &item.value {
        Some(value) => Some((key, value)),
        None => {
            cx.error_spanned_by(&item.key, format_args!("`{key}` needs a value in `{name}(..)`: {}", example(name)));
            None
        }
    }
}

/// `limits_concurrency(to = 2, key = .., duration = "5m", on_conflict = block, group = "..")`.
pub(crate) fn concurrency(cx: &Ctxt, meta: &Meta) -> Option<ConcurrencySpec> {
    let items = items(cx, LIMITS_CONCURRENCY, meta, false)?;
    let mut to = Attr::none(cx, TO);
    let mut key = Attr::none(cx, KEY);
    let mut duration = Attr::none(cx, DURATION);
    let mut on_conflict = Attr::none(cx, ON_CONFLICT);
    let mut group = Attr::none(cx, GROUP);
    let given = |name: Symbol| items.iter().any(|item| item.key == name);
    for item in &items {
        let Some((name, value)) = known(cx, LIMITS_CONCURRENCY, CONCURRENCY_KEYS, item) else { continue };
        match name {
            TO if to.first_time(&item.key) => to.set_parsed(count(cx, TO, value)),
            KEY if key.first_time(&item.key) => key.set_parsed(key_fn(cx, value)),
            DURATION if duration.first_time(&item.key) => duration.set_parsed(values::duration(cx, DURATION, value)),
            ON_CONFLICT if on_conflict.first_time(&item.key) => on_conflict.set_parsed(discard(cx, value)),
            GROUP if group.first_time(&item.key) => group.set_parsed(values::name(cx, GROUP, value)),
            _ => {}
        }
    }
    let Some(to) = to.get() else {
        // A `to` with a wrong value is reported already.
        if !given(TO) {
            cx.error_spanned_by(meta, "`limits_concurrency` needs `to = N`: how many jobs of a key run at once");
        }
        return None;
    };
    Some(ConcurrencySpec {
        to,
        key: key.get(),
        duration: duration.get(),
        discard: on_conflict.get().unwrap_or(false),
        group: group.get(),
    })
}

/// `unique` or `unique(by = [args, queue, class], for = "1h", while = [..], key = ..)`.
pub(crate) fn unique(cx: &Ctxt, meta: &Meta) -> Option<UniqueSpec> {
    let items = items(cx, UNIQUE, meta, true)?;
    let mut by = Attr::none(cx, BY);
    let mut period = Attr::none(cx, FOR);
    let mut states = Attr::none(cx, WHILE);
    let mut key = Attr::none(cx, KEY);
    let mut by_span = None;
    for item in &items {
        let Some((name, value)) = known(cx, UNIQUE, UNIQUE_KEYS, item) else { continue };
        match name {
            BY if by.first_time(&item.key) => {
                by_span = Some(item.key.span());
                by.set_parsed(unique_by(cx, value));
            }
            FOR if period.first_time(&item.key) => period.set_parsed(values::duration(cx, FOR, value)),
            WHILE if states.first_time(&item.key) => states.set_parsed(state_names(cx, value)),
            KEY if key.first_time(&item.key) => key.set_parsed(key_fn(cx, value)),
            _ => {}
        }
    }
    let spec = UniqueSpec { by: by.get(), period: period.get(), states: states.get(), key: key.get() };
    if let (Some(span), Some(_)) = (by_span, &spec.key) {
        cx.syn_error(syn::Error::new(
            span,
            "`by` and `key` exclude each other: a job with its own `key` is unique by it",
        ));
    }
    Some(spec)
}

/// `throttle(limit = 10, period = "1s", key = ..)`.
pub(crate) fn throttle(cx: &Ctxt, meta: &Meta) -> Option<ThrottleSpec> {
    let items = items(cx, THROTTLE, meta, false)?;
    let mut limit = Attr::none(cx, LIMIT);
    let mut period = Attr::none(cx, PERIOD);
    let mut key = Attr::none(cx, KEY);
    let given = |name: Symbol| items.iter().any(|item| item.key == name);
    for item in &items {
        let Some((name, value)) = known(cx, THROTTLE, THROTTLE_KEYS, item) else { continue };
        match name {
            LIMIT if limit.first_time(&item.key) => limit.set_parsed(count(cx, LIMIT, value)),
            PERIOD if period.first_time(&item.key) => {
                period.set_parsed(positive(cx, values::duration(cx, PERIOD, value), value))
            }
            KEY if key.first_time(&item.key) => key.set_parsed(key_fn(cx, value)),
            _ => {}
        }
    }
    match (limit.get(), period.get()) {
        (Some(limit), Some(period)) => Some(ThrottleSpec { limit, period, key: key.get() }),
        // A `limit` or `period` with a wrong value is reported already.
        _ if given(LIMIT) && given(PERIOD) => None,
        _ => {
            cx.error_spanned_by(
                meta,
                "`throttle` needs `limit = N` and `period = \"1s\"`: at most N starts per period",
            );
            None
        }
    }
}

/// A positive integer literal that fits in a u32.
fn count(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<u32> {
    let parsed = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
        _ => None,
    };
    if parsed.is_none() {
        cx.error_spanned_by(value, format_args!("`{key}` expects a positive integer literal such as `2`"));
    }
    parsed
}

fn positive(cx: &Ctxt, duration: Option<std::time::Duration>, value: &Expr) -> Option<std::time::Duration> {
    let duration = duration?;
    if duration.is_zero() {
        cx.error_spanned_by(value, "`period` must be longer than zero");
        return None;
    }
    Some(duration)
}

/// `on_conflict = block` (false) or `on_conflict = discard` (true).
fn discard(cx: &Ctxt, value: &Expr) -> Option<bool> {
    match ident_of(value).map(|i| i.to_string()).as_deref() {
        Some("block") => Some(false),
        Some("discard") => Some(true),
        _ => {
            cx.error_spanned_by(value, "`on_conflict` expects `block` or `discard`");
            None
        }
    }
}

fn ident_of(value: &Expr) -> Option<&Ident> {
    match value {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

/// The identifiers of `[a, b]` (or of a single `a`), each checked by `read`.
fn ident_list<T>(
    cx: &Ctxt,
    key: Symbol,
    value: &Expr,
    valid: &str,
    read: impl Fn(&str) -> Option<T>,
) -> Option<Vec<T>> {
    let elems: Vec<&Expr> = match value {
        Expr::Array(array) => array.elems.iter().collect(),
        single => vec![single],
    };
    let mut out = Vec::new();
    let mut ok = true;
    for elem in elems {
        match ident_of(elem).and_then(|i| read(&i.to_string())) {
            Some(item) => out.push(item),
            None => {
                cx.error_spanned_by(elem, format_args!("`{key}` expects a list of {valid}"));
                ok = false;
            }
        }
    }
    if ok && out.is_empty() {
        cx.error_spanned_by(value, format_args!("`{key}` needs at least one of {valid}"));
        return None;
    }
    ok.then_some(out)
}

fn unique_by(cx: &Ctxt, value: &Expr) -> Option<(bool, bool, bool)> {
    let parts = ident_list(cx, BY, value, "`args`, `queue`, `class`", |name| match name {
        "args" | "queue" | "class" => Some(name.to_owned()),
        _ => None,
    })?;
    let has = |name: &str| parts.iter().any(|p| p == name);
    Some((has("args"), has("queue"), has("class")))
}

fn state_names(cx: &Ctxt, value: &Expr) -> Option<Vec<StateName>> {
    let valid = "`scheduled`, `ready`, `blocked`, `running`, `retrying`";
    ident_list(cx, WHILE, value, valid, |name| match name {
        "scheduled" => Some(StateName::Scheduled),
        "ready" => Some(StateName::Ready),
        "blocked" => Some(StateName::Blocked),
        "running" => Some(StateName::Running),
        "retrying" => Some(StateName::Retrying),
        _ => None,
    })
}

/// `key = |job| expr` or `key = path::to::function`.
fn key_fn(cx: &Ctxt, value: &Expr) -> Option<KeyFn> {
    const FORMS: &str =
        "`key` expects a closure of the job, such as `|job| job.account_id`, or the path of a function taking `&Job`";
    match value {
        Expr::Closure(closure) if closure.inputs.len() == 1 && closure.asyncness.is_none() => {
            Some(KeyFn::Closure(Box::new((closure.inputs[0].clone(), (*closure.body).clone()))))
        }
        Expr::Closure(closure) => {
            let span: Span = closure.or1_token.span();
            cx.syn_error(syn::Error::new(span, FORMS));
            None
        }
        Expr::Path(p) if p.qself.is_none() => Some(KeyFn::Path(p.path.clone())),
        other => {
            cx.error_spanned_by(other, FORMS);
            None
        }
    }
}
