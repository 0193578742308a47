use jobs::prelude::*;

#[job]
struct NotAFunction;

fn main() {}
