//! Reads `#[job(...)]` and its function into a plain [`Model`], reporting every mistake in a
//! [`Ctxt`](crate::ctxt::Ctxt) and keeping what it could read, so that the expansion can do its best.

mod attr;
mod continuable;
mod flow;
mod handlers;
mod keys;
pub(crate) mod mailer;
pub(crate) mod model;
mod signature;
pub(crate) mod symbol;
mod values;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::ItemFn;

pub(crate) use model::Model;

use crate::ctxt::Ctxt;

/// Reads the attribute's `args` and the function `item`.
pub(crate) fn job(cx: &Ctxt, args: TokenStream, item: &ItemFn) -> Model {
    let model = Model { attrs: keys::parse(cx, args), function: signature::parse(cx, item) };
    if let Some(cron) = &model.attrs.cron
        && let Some(argument) = model.function.arguments().next()
    {
        cx.error_spanned_by(
            &argument.ident,
            format_args!(
                "a job with `cron = {:?}` is enqueued with no arguments; take `State<T>` or `&JobContext` instead, or declare the task with `Recurring::new(..).job(..)`",
                cron.value()
            ),
        );
    }
    model
}
