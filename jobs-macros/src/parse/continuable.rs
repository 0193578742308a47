//! Reads `continuable` and `continuable(max_resumptions = N, resume_wait = "5s",
//! resume_errors_after_advancing = false, checkpoint_interval = "1s")`.

use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

use super::attr::Attr;
use super::model::ContinuableSpec;
use super::symbol::{
    self, CHECKPOINT_INTERVAL, CONTINUABLE, CONTINUABLE_KEYS, MAX_RESUMPTIONS, RESUME_ERRORS_AFTER_ADVANCING,
    RESUME_WAIT,
};
use super::values;
use crate::ctxt::Ctxt;

const FORMS: &str = "write `continuable` or `continuable(max_resumptions = 10, resume_wait = \"5s\")`";

/// Parses the key; `None` after reporting a mistake that leaves nothing to go on.
pub(crate) fn parse(cx: &Ctxt, meta: &Meta) -> Option<ContinuableSpec> {
    let list = match meta {
        Meta::Path(_) => return Some(ContinuableSpec::default()),
        Meta::NameValue(nv) => {
            cx.error_spanned_by(&nv.value, format_args!("`continuable` takes no value: {FORMS}"));
            return None;
        }
        Meta::List(list) => list,
    };
    let items = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(items) => items,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    let mut max_resumptions = Attr::none(cx, MAX_RESUMPTIONS);
    let mut resume_wait = Attr::none(cx, RESUME_WAIT);
    let mut resume_errors = Attr::none(cx, RESUME_ERRORS_AFTER_ADVANCING);
    let mut checkpoint_interval = Attr::none(cx, CHECKPOINT_INTERVAL);
    for item in &items {
        let valid = symbol::list(CONTINUABLE_KEYS);
        let Meta::NameValue(nv) = item else {
            cx.error_spanned_by(item, format_args!("`{CONTINUABLE}` expects `key = value`; valid keys are: {valid}"));
            continue;
        };
        let (path, value) = (&nv.path, &nv.value);
        let Some(key) = CONTINUABLE_KEYS.iter().copied().find(|k| path == *k) else {
            let name = quote::ToTokens::to_token_stream(path).to_string().replace(' ', "");
            cx.error_spanned_by(path, format_args!("unknown `{CONTINUABLE}` key `{name}`; valid keys are: {valid}"));
            continue;
        };
        match key {
            MAX_RESUMPTIONS if max_resumptions.first_time(path) => max_resumptions.set_parsed(count(cx, value)),
            RESUME_WAIT if resume_wait.first_time(path) => {
                resume_wait.set_parsed(values::duration(cx, RESUME_WAIT, value))
            }
            RESUME_ERRORS_AFTER_ADVANCING if resume_errors.first_time(path) => {
                resume_errors.set_parsed(values::bool_lit(cx, RESUME_ERRORS_AFTER_ADVANCING, value).map(|b| b.value))
            }
            CHECKPOINT_INTERVAL if checkpoint_interval.first_time(path) => {
                checkpoint_interval.set_parsed(values::duration(cx, CHECKPOINT_INTERVAL, value))
            }
            _ => {}
        }
    }
    Some(ContinuableSpec {
        max_resumptions: max_resumptions.get(),
        resume_wait: resume_wait.get(),
        resume_errors_after_advancing: resume_errors.get(),
        checkpoint_interval: checkpoint_interval.get(),
    })
}

fn count(cx: &Ctxt, value: &Expr) -> Option<u32> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                cx.error_spanned_by(value, "`max_resumptions` must fit in a u32");
                None
            }
        },
        _ => {
            cx.error_spanned_by(value, "`max_resumptions` expects an integer literal such as `10`");
            None
        }
    }
}
