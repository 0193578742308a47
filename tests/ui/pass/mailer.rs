// A mailer whose actions use `Self`, injected state, a record and helpers, in a scope that
// shadows the names generated code must not rely on.
#![allow(dead_code)]

use jobs::mailer::{Mail, MailError, mailer};
use jobs::prelude::*;

type Result<T> = ::core::result::Result<T, ()>;
mod serde {}
mod core {}

struct Signature(String);

pub struct AccountMailer;

#[mailer(name = "Accounts::AccountMailer", from = "a@example.com", reply_to = "b@example.com", layout = "mail")]
impl AccountMailer {
    /// A receipt.
    pub async fn receipt(to: String, cents: u64, signature: State<Signature>) -> ::core::result::Result<Mail, MailError> {
        Ok(Self::base(to).subject(format!("{} cents, {}", cents, signature.0)))
    }

    async fn reminder(to: String, ctx: &JobContext) -> ::core::result::Result<Mail, std::io::Error> {
        let _ = ctx.job_id();
        Ok(Self::base(to))
    }

    fn base(to: String) -> Mail {
        Mail::new().to(to)
    }
}

fn main() {
    use jobs::mailer::Mailer;
    let _: jobs::mailer::MessageDelivery<AccountMailerReceipt> = AccountMailer::receipt("x@example.com".into(), 5);
    let _ = AccountMailer::reminder("x@example.com".into());
    assert_eq!(<AccountMailer as Mailer>::NAME, "Accounts::AccountMailer");
    assert_eq!(<AccountMailer as Mailer>::DEFAULTS.layout, Some("mail"));
}
