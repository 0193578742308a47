//! jobs::mailer: mail built by mailer actions, rendered from templates and delivered into memory
//! (test mode), through a real SMTP server (smtp.rs), and exchanged with Action Mailer (rails.rs).

#[path = "../common/mod.rs"]
mod common;

mod app;
mod rails;
mod smtp;
mod test_mode;
