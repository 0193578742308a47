//! Reads the values of keys: strings, integers, booleans, durations, function paths.

use std::time::Duration;

use syn::{Expr, ExprLit, ExprUnary, Lit, LitBool, LitStr, Path, UnOp};

use super::symbol::Symbol;
use crate::ctxt::Ctxt;

/// `key = "..."`.
pub(crate) fn str_lit(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.clone()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects a string literal: `{key} = \"...\"`"));
            None
        }
    }
}

/// `cron = "0 9 * * *"`: a schedule, checked here where it can be: cron expressions (seconds
/// optional) and `@nicknames` are parsed as the runtime parses them; a phrase (`every 5
/// minutes`, starting with a word) is left to the worker's start-up check. A time zone may end it
/// (`0 9 * * * Europe/Paris`).
pub(crate) fn cron(cx: &Ctxt, value: &Expr) -> Option<LitStr> {
    let lit = str_lit(cx, super::symbol::CRON, value)?;
    let text = lit.value();
    let mut expression = text.trim();
    if expression.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some(lit);
    }
    if let Some((rest, last)) = expression.rsplit_once(char::is_whitespace)
        && last.starts_with(|c: char| c.is_ascii_uppercase())
        && (last.contains('/') || last == "UTC")
    {
        expression = rest.trim_end();
    }
    match croner::parser::CronParser::new().parse(expression) {
        Ok(_) => Some(lit),
        Err(error) => {
            cx.error_spanned_by(&lit, format_args!("invalid cron expression `{text}`: {error}"));
            None
        }
    }
}

/// `key = "name"`: a non-empty string without spaces (a queue or job name).
pub(crate) fn name(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<LitStr> {
    let lit = str_lit(cx, key, value)?;
    let text = lit.value();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        cx.error_spanned_by(&lit, format_args!("`{key}` must be a non-empty name without spaces"));
        return None;
    }
    Some(lit)
}

/// `key = true` or `key = false`.
pub(crate) fn bool_lit(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<LitBool> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Some(b.clone()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects `true` or `false`"));
            None
        }
    }
}

/// `priority = -10`: an integer literal that fits in an `i32`.
pub(crate) fn priority(cx: &Ctxt, value: &Expr) -> Option<i32> {
    let (negative, expr) = match value {
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => (true, &**expr),
        other => (false, other),
    };
    let Expr::Lit(ExprLit { lit: Lit::Int(lit), .. }) = expr else {
        cx.error_spanned_by(value, "`priority` expects an integer literal such as `10`");
        return None;
    };
    let parsed = lit.base10_parse::<i64>().ok().map(|v| if negative { -v } else { v });
    let fitted = parsed.and_then(|v| i32::try_from(v).ok());
    if fitted.is_none() {
        cx.error_spanned_by(value, "`priority` must fit in an i32");
    }
    fitted
}

/// A duration: `"30s"`, `"500ms"`, `"5m"`, `"1h"`, `"1d"`, or an integer number of seconds.
pub(crate) fn duration(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<Duration> {
    let parsed = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u64>().ok().map(Duration::from_secs),
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

fn duration_text(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = |s: u64| Some(Duration::from_secs(s));
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => secs(n),
        "m" => secs(n.checked_mul(60)?),
        "h" => secs(n.checked_mul(3600)?),
        "d" => secs(n.checked_mul(86_400)?),
        _ => None,
    }
}

/// `key = some::function`.
pub(crate) fn path(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects the path of a function"));
            None
        }
    }
}

/// `key = path` or `key = [path, path]` (callbacks, `after_discard`).
pub(crate) fn paths(cx: &Ctxt, key: Symbol, value: &Expr) -> Vec<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => vec![p.path.clone()],
        Expr::Array(array) => array.elems.iter().filter_map(|e| path(cx, key, e)).collect(),
        _ => {
            cx.error_spanned_by(value, format_args!("`{key}` expects a function: `{key} = my_callback` or `[a, b]`"));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(duration_text("30s"), Some(Duration::from_secs(30)));
        assert_eq!(duration_text("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration_text("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(duration_text("2 weeks"), None);
        assert_eq!(duration_text("s"), None);
    }
}
