use jobs::mailer::{Mail, MailError, mailer};

pub struct UserMailer;

#[mailer(form = "a@example.com", layout = 3)]
impl UserMailer {
    async fn welcome(&self, to: String) -> Result<Mail, MailError> {
        Ok(Mail::new().to(to))
    }

    async fn goodbye(to: &str) -> Result<Mail, MailError> {
        Ok(Mail::new().to(to))
    }
}

fn main() {}
