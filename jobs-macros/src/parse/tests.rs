//! The attribute's keys and handlers, read from tokens.

use quote::quote;
use syn::{Meta, parse_quote};

use super::model::{HandlerDecl, Match};
use super::symbol::{DISCARD_ON, RESCUE_FROM, RETRY_ON};
use super::{handlers, keys};
use crate::ctxt::Ctxt;

fn messages(cx: Ctxt) -> Vec<String> {
    cx.check().err().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
}

fn key_errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let cx = Ctxt::new();
    keys::parse(&cx, tokens);
    messages(cx)
}

#[test]
fn reads_every_key() {
    let cx = Ctxt::new();
    let attrs = keys::parse(
        &cx,
        quote!(
            queue = "mailers",
            priority = -5,
            name = "MailJob",
            log_arguments = false,
            crate = "::x::jobs",
            timeout = "2m",
            before_perform = [a, b::c]
        ),
    );
    assert!(cx.check().is_ok());
    assert_eq!(attrs.queue.unwrap().value(), "mailers");
    assert_eq!(attrs.priority, Some(-5));
    assert_eq!(attrs.name.unwrap().value(), "MailJob");
    assert!(!attrs.log_arguments.unwrap().value);
    assert!(attrs.krate.is_some());
    assert_eq!(attrs.timeout, Some(std::time::Duration::from_secs(120)));
    assert_eq!(attrs.callbacks.before_perform.len(), 2);
}

#[test]
fn reports_all_mistakes_at_once() {
    let found = key_errors(quote!(queu = "x", priority = "high", queue = "a", queue = "b"));
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("unknown key `queu`; valid keys are: queue, priority"), "{found:?}");
    assert!(found[1].contains("integer literal"));
    assert!(found[2].contains("duplicate key `queue`"));
}

#[test]
fn keeps_the_first_value_of_a_duplicate_key() {
    let cx = Ctxt::new();
    let attrs = keys::parse(&cx, quote!(queue = "a", queue = 5, after_perform = f, after_perform = g));
    let found = messages(cx);
    assert_eq!(attrs.queue.unwrap().value(), "a");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].ends_with("name several functions as a list `[a, b]`"), "{found:?}");
}

#[test]
fn hints_at_rails_spellings() {
    let found = key_errors(quote!(queue_as = "low", queue_with_priority = 10));
    assert_eq!(found, ["use `queue = ...` (Rails' queue_as)", "use `priority = ...` (Rails' queue_with_priority)"]);
}

fn handler(meta: Meta) -> (Option<HandlerDecl>, Vec<String>) {
    let cx = Ctxt::new();
    let kind = [RETRY_ON, DISCARD_ON, RESCUE_FROM].into_iter().find(|k| meta.path() == *k).unwrap();
    let decl = handlers::parse(&cx, kind, &meta);
    (decl, messages(cx))
}

#[test]
fn reads_a_full_retry_on() {
    let (decl, errors) = handler(parse_quote!(retry_on(
        SmtpError,
        attempts = 3,
        wait = polynomially_longer,
        jitter = 0.3,
        queue = "low",
        priority = -2,
        with = give_up
    )));
    assert!(errors.is_empty(), "{errors:?}");
    let Some(HandlerDecl::RetryOn { matches, attempts, jitter, queue, priority, with, .. }) = decl else {
        panic!("not parsed");
    };
    assert_eq!(matches.key(), "[SmtpError]");
    assert_eq!((attempts, jitter, queue.as_deref(), priority), (Some(3), Some(0.3), Some("low"), Some(-2)));
    assert!(with.is_some());
}

#[test]
fn accepts_several_error_types_as_rails_does() {
    let (decl, errors) = handler(parse_quote!(retry_on(SmtpError, io::Error, attempts = unlimited)));
    assert!(errors.is_empty(), "{errors:?}");
    let Some(HandlerDecl::RetryOn { matches: Match::Types(types), attempts: None, .. }) = &decl else {
        panic!("not parsed");
    };
    assert_eq!(types.len(), 2);
    let Some(HandlerDecl::RetryOn { matches, .. }) = decl else { unreachable!() };
    assert_eq!(matches.key(), "[SmtpError, io::Error]");
    let (decl, errors) = handler(parse_quote!(discard_on(A, B)));
    assert!(errors.is_empty() && matches!(decl, Some(HandlerDecl::DiscardOn { .. })), "{errors:?}");
}

#[test]
fn reports_bad_handler_arguments() {
    let (_, errors) = handler(parse_quote!(retry_on(SmtpError, tries = 3, jitter = 2.0, attempts = 2, attempts = 3)));
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("unknown `retry_on` key `tries`"));
    assert!(errors[1].contains("between 0.0 and 1.0"));
    assert!(errors[2].starts_with("duplicate key `attempts`"));
    let (_, errors) = handler(parse_quote!(discard_on(with = f, SmtpError)));
    assert!(errors[0].starts_with("error types go first"), "{errors:?}");
}

#[test]
fn rescue_from_needs_a_handler() {
    let (decl, errors) = handler(parse_quote!(rescue_from(SmtpError)));
    assert!(decl.is_none());
    assert!(errors[0].contains("needs a handler"));
}

#[test]
fn reads_continuable_with_and_without_options() {
    let cx = Ctxt::new();
    let attrs = keys::parse(&cx, quote!(continuable));
    assert!(cx.check().is_ok());
    let spec = attrs.continuable.expect("continuable was read");
    assert_eq!((spec.max_resumptions, spec.resume_wait, spec.resume_errors_after_advancing), (None, None, None));

    let cx = Ctxt::new();
    let attrs = keys::parse(
        &cx,
        quote!(continuable(
            max_resumptions = 3,
            resume_wait = "250ms",
            resume_errors_after_advancing = false,
            checkpoint_interval = "0s"
        )),
    );
    assert!(cx.check().is_ok());
    let spec = attrs.continuable.unwrap();
    assert_eq!(spec.max_resumptions, Some(3));
    assert_eq!(spec.resume_wait, Some(std::time::Duration::from_millis(250)));
    assert_eq!(spec.checkpoint_interval, Some(std::time::Duration::ZERO));
    assert_eq!(spec.resume_errors_after_advancing, Some(false));
}

#[test]
fn reports_continuable_mistakes() {
    let found = key_errors(quote!(continuable = 3));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`continuable` takes no value"), "{found:?}");
    let found = key_errors(quote!(continuable(max_resumption = 1, resume_wait = "soon", max_resumptions = "x", flag)));
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(
        found[0].contains("unknown `continuable` key `max_resumption`; valid keys are: max_resumptions"),
        "{found:?}"
    );
    assert!(found[1].contains("`resume_wait` expects a duration"), "{found:?}");
    assert!(found[2].contains("`max_resumptions` expects an integer literal"), "{found:?}");
    assert!(found[3].contains("`continuable` expects `key = value`"), "{found:?}");
}

#[test]
fn reads_the_flow_keys() {
    let cx = Ctxt::new();
    let attrs = keys::parse(
        &cx,
        quote!(
            limits_concurrency(to = 3, key = |job| job.account, duration = "5m", on_conflict = discard, group = "g"),
            unique(by = [args, class], for = "1h", while = [scheduled, running]),
            throttle(limit = 10, period = "2s")
        ),
    );
    assert!(cx.check().is_ok());
    let limit = attrs.concurrency.unwrap();
    assert_eq!((limit.to, limit.duration, limit.discard), (3, Some(std::time::Duration::from_secs(300)), true));
    assert_eq!(limit.group.unwrap().value(), "g");
    assert!(limit.key.is_some());
    let unique = attrs.unique.unwrap();
    assert_eq!(unique.by, Some((true, false, true)));
    assert_eq!(unique.period, Some(std::time::Duration::from_secs(3600)));
    assert_eq!(unique.states.unwrap().len(), 2);
    let throttle = attrs.throttle.unwrap();
    assert_eq!((throttle.limit, throttle.period), (10, std::time::Duration::from_secs(2)));
}

#[test]
fn a_bare_unique_takes_the_defaults() {
    let cx = Ctxt::new();
    let attrs = keys::parse(&cx, quote!(unique));
    assert!(cx.check().is_ok());
    let unique = attrs.unique.unwrap();
    assert!(unique.by.is_none() && unique.states.is_none() && unique.period.is_none() && unique.key.is_none());
}

#[test]
fn reports_every_flow_mistake() {
    let found = key_errors(quote!(
        limits_concurrency(to = 0, on_conflict = wait, grup = "x"),
        unique(by = [args, user], key = |job| job.id),
        throttle(limit = 5)
    ));
    let expected = [
        "`to` expects a positive integer literal such as `2`",
        "`on_conflict` expects `block` or `discard`",
        "unknown `limits_concurrency` key `grup`; valid keys are: to, key, duration, on_conflict, group",
        "`by` expects a list of `args`, `queue`, `class`",
        "`by` and `key` exclude each other",
        "`throttle` needs `limit = N` and `period = \"1s\"`",
    ];
    assert_eq!(found.len(), expected.len(), "{found:?}");
    for (found, expected) in found.iter().zip(expected) {
        assert!(found.starts_with(expected), "{found} vs {expected}");
    }
}
