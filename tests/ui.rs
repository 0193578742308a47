//! Compile-time behaviour of #[job]: mistakes are spanned errors, and the expansion is hygienic.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
