// `retry_on(A, B, ..)` and `discard_on(A, B)` as Rails writes them: one declaration per list.
use jobs::prelude::*;

#[derive(Debug)]
struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("busy")
    }
}

impl std::error::Error for Busy {}

#[job(retry_on(Busy, std::io::Error, attempts = 3, wait = "1s"), discard_on(std::fmt::Error, Busy))]
async fn deliver(to: String) -> Result<(), Busy> {
    let _ = to;
    Ok(())
}

fn main() {
    let declarations = <Deliver as jobs::Job>::DECLARATIONS;
    assert_eq!(declarations.error_handlers.len(), 2);
}
