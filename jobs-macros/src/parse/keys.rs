//! Reads the keys of `#[job(...)]` into [`JobAttrs`].

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::{Expr, Meta, Path, Token};

use super::attr::Attr;
use super::model::{Callbacks, JobAttrs};
use super::symbol::{self, *};
use super::{continuable, flow, handlers, values};
use crate::ctxt::Ctxt;

const LIST_HINT: &str = "; name several functions as a list `[a, b]`";

/// Parses `queue = "..", priority = N, ...`, recording every mistake in `cx`.
pub(crate) fn parse(cx: &Ctxt, tokens: TokenStream) -> JobAttrs {
    let metas = match syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, tokens) {
        Ok(metas) => metas,
        Err(error) => {
            cx.syn_error(error);
            return JobAttrs::default();
        }
    };
    let mut queue = Attr::none(cx, QUEUE);
    let mut priority = Attr::none(cx, PRIORITY);
    let mut name = Attr::none(cx, NAME);
    let mut log_arguments = Attr::none(cx, LOG_ARGUMENTS);
    let mut timeout = Attr::none(cx, TIMEOUT);
    let mut krate = Attr::none(cx, CRATE);
    let mut continuable = Attr::none(cx, CONTINUABLE);
    let mut cron = Attr::none(cx, CRON);
    let mut concurrency = Attr::none(cx, LIMITS_CONCURRENCY);
    let mut unique = Attr::none(cx, UNIQUE);
    let mut throttle = Attr::none(cx, THROTTLE);
    let mut callbacks = CALLBACK_KEYS.map(|key| Attr::none(cx, key).with_hint(LIST_HINT));
    let mut handlers = Vec::new();

    for meta in &metas {
        let path = meta.path();
        let Some(key) = known_key(cx, path) else { continue };
        if key == RETRY_ON || key == DISCARD_ON || key == RESCUE_FROM {
            handlers.extend(handlers::parse(cx, key, meta));
            continue;
        }
        if key == LIMITS_CONCURRENCY || key == UNIQUE || key == THROTTLE {
            match key {
                LIMITS_CONCURRENCY if concurrency.first_time(path) => {
                    concurrency.set_parsed(flow::concurrency(cx, meta))
                }
                UNIQUE if unique.first_time(path) => unique.set_parsed(flow::unique(cx, meta)),
                THROTTLE if throttle.first_time(path) => throttle.set_parsed(flow::throttle(cx, meta)),
                _ => {}
            }
            continue;
        }
        if key == CONTINUABLE {
            if continuable.first_time(path) {
                continuable.set_parsed(continuable::parse(cx, meta));
            }
            continue;
        }
        let first_time = match key {
            QUEUE => queue.first_time(path),
            PRIORITY => priority.first_time(path),
            NAME => name.first_time(path),
            LOG_ARGUMENTS => log_arguments.first_time(path),
            TIMEOUT => timeout.first_time(path),
            CRATE => krate.first_time(path),
            CRON => cron.first_time(path),
            _ => callbacks
                .iter_mut()
                .zip(CALLBACK_KEYS)
                .find(|(_, k)| key == *k)
                .is_some_and(|(a, _)| a.first_time(path)),
        };
        if !first_time {
            continue;
        }
        let Some(value) = value_of(cx, key, meta) else { continue };
        match key {
            QUEUE => queue.set_parsed(values::name(cx, key, value)),
            NAME => name.set_parsed(values::name(cx, key, value)),
            PRIORITY => priority.set_parsed(values::priority(cx, value)),
            LOG_ARGUMENTS => log_arguments.set_parsed(values::bool_lit(cx, key, value)),
            TIMEOUT => timeout.set_parsed(values::duration(cx, key, value)),
            CRATE => krate.set_parsed(crate_path(cx, value)),
            CRON => cron.set_parsed(values::cron(cx, value)),
            _ => {
                if let Some((slot, _)) = callbacks.iter_mut().zip(CALLBACK_KEYS).find(|(_, k)| key == *k) {
                    slot.set_parsed(Some(values::paths(cx, key, value)));
                }
            }
        }
    }
    let [after_discard, before_enqueue, around_enqueue, after_enqueue, before_perform, around_perform, after_perform] =
        callbacks.map(|slot| slot.get().unwrap_or_default());
    JobAttrs {
        queue: queue.get(),
        priority: priority.get(),
        name: name.get(),
        log_arguments: log_arguments.get(),
        timeout: timeout.get(),
        krate: krate.get(),
        continuable: continuable.get(),
        cron: cron.get(),
        concurrency: concurrency.get(),
        unique: unique.get(),
        throttle: throttle.get(),
        handlers,
        callbacks: Callbacks {
            after_discard,
            before_enqueue,
            around_enqueue,
            after_enqueue,
            before_perform,
            around_perform,
            after_perform,
        },
    }
}

/// The key `path` names, or `None` after reporting an unknown key (with a hint for Rails spellings).
fn known_key(cx: &Ctxt, path: &Path) -> Option<Symbol> {
    if let Some(key) = JOB_KEYS.iter().copied().find(|k| path == *k) {
        return Some(key);
    }
    let valid = symbol::list(JOB_KEYS);
    if path == QUEUE_AS {
        cx.error_spanned_by(path, "use `queue = ...` (Rails' queue_as)");
    } else if path == QUEUE_WITH_PRIORITY {
        cx.error_spanned_by(path, "use `priority = ...` (Rails' queue_with_priority)");
    } else if let Some(ident) = path.get_ident() {
        cx.error_spanned_by(path, format_args!("unknown key `{ident}`; valid keys are: {valid}"));
    } else {
        cx.error_spanned_by(path, format_args!("unknown key; valid keys are: {valid}"));
    }
    None
}

/// The value of `key = value`, or `None` after reporting a key given without one.
fn value_of<'m>(cx: &Ctxt, key: Symbol, meta: &'m Meta) -> Option<&'m Expr> {
    match meta {
        Meta::NameValue(nv) => Some(&nv.value),
        _ => {
            cx.error_spanned_by(meta, format_args!("`{key}` needs a value: `{key} = {}`", example(key)));
            None
        }
    }
}

fn example(key: Symbol) -> &'static str {
    match key {
        PRIORITY => "10",
        LOG_ARGUMENTS => "false",
        CRATE => "\"::jobs\"",
        TIMEOUT => "\"30s\"",
        CRON => "\"0 9 * * *\"",
        key if CALLBACK_KEYS.contains(&key) => "my_callback",
        _ => "\"...\"",
    }
}

fn crate_path(cx: &Ctxt, value: &Expr) -> Option<Path> {
    let lit = values::str_lit(cx, CRATE, value)?;
    match lit.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_spanned_by(&lit, "`crate` expects a path such as `\"::my_facade::jobs\"`");
            None
        }
    }
}
