//! The expansion, read as text: what is generated, and what is still generated on errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::parse;

fn expand(attr: TokenStream, item: TokenStream) -> String {
    let function = syn::parse2(item).unwrap();
    let cx = Ctxt::new();
    let model = parse::job(&cx, attr, &function);
    super::job(&function, &model, cx.check().err()).to_string()
}

#[test]
fn generates_the_struct_and_its_impls() {
    let out = expand(
        quote!(queue = "mailers", name = "WelcomeJob"),
        quote!(
            async fn send_welcome(user_id: i64, smtp: State<Smtp>, ctx: &JobContext) -> Result<(), E> {}
        ),
    );
    assert!(out.contains("struct SendWelcome"), "{out}");
    assert!(out.contains("pub user_id : i64"), "{out}");
    assert!(!out.contains("pub smtp"), "{out}");
    assert!(out.contains("const NAME : & 'static str = \"WelcomeJob\""), "{out}");
    assert!(out.contains("const QUEUE : & 'static str = \"mailers\""), "{out}");
    assert!(out.contains("inventory :: submit !"), "{out}");
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn names_every_runtime_item_through_the_private_module() {
    let out = expand(
        quote!(crate = "::facade::jobs", retry_on(E, with = f), before_enqueue = g, around_perform = h),
        quote!(
            async fn j(a: u8, b: jobs::JobContext) {}
        ),
    );
    let rooted = out.matches(":: facade :: jobs ::").count();
    let private = out.matches(":: facade :: jobs :: __private ::").count();
    assert!(rooted > 20, "{out}");
    assert_eq!(rooted, private, "a runtime item named outside __private: {out}");
}

#[test]
fn marks_every_impl_as_generated() {
    let out = expand(
        quote!(),
        quote!(
            async fn j(a: u8) {}
        ),
    );
    let impls = out.matches("impl ").count() - out.matches("-> impl ").count();
    assert_eq!(impls, 3, "{out}");
    assert_eq!(out.matches("# [automatically_derived] impl").count(), impls, "{out}");
}

#[test]
fn keeps_the_struct_when_a_key_is_wrong() {
    let out = expand(
        quote!(queue = 1, retries = 3),
        quote!(
            async fn my_job(x: u8) {}
        ),
    );
    assert!(out.contains("async fn my_job"), "{out}");
    assert!(out.contains("struct MyJob"), "{out}");
    assert!(out.contains("fn perform_later"), "{out}");
    assert!(out.contains("const QUEUE : & 'static str = \"default\""), "{out}");
    assert!(out.contains("expects a string literal"), "{out}");
    assert!(out.contains("unknown key `retries`"), "{out}");
}

#[test]
fn keeps_the_struct_of_a_function_that_is_not_async() {
    let out = expand(
        quote!(),
        quote!(
            fn not_async(x: u8) {}
        ),
    );
    assert!(out.contains("struct NotAsync"), "{out}");
    assert!(out.contains("must be async"), "{out}");
    assert!(!out.contains("not_async (x) . await"), "{out}");
}

#[test]
fn keeps_only_the_function_when_no_struct_can_mirror_it() {
    let out = expand(
        quote!(queue = 1),
        quote!(
            fn not_async(x: &str) {}
        ),
    );
    assert!(out.contains("fn not_async"), "{out}");
    assert!(out.contains("must be async"), "{out}");
    assert!(out.contains("cannot be references"), "{out}");
    assert!(out.contains("expects a string literal"), "{out}");
    assert!(!out.contains("struct NotAsync"), "{out}");
}

#[test]
fn matches_any_of_several_error_types() {
    let out = expand(
        quote!(discard_on(A, b::B)),
        quote!(
            async fn j() {}
        ),
    );
    assert!(out.contains("JobError :: is :: < A > (error) || "), "{out}");
    assert!(out.contains("JobError :: is :: < b :: B > (error)"), "{out}");
}

#[test]
fn decodes_and_encodes_through_one_codec_per_argument() {
    let out = expand(
        quote!(),
        quote!(
            async fn j(conn: Connection) {}
        ),
    );
    assert_eq!(out.matches("fn __jobs_codec_conn").count(), 1, "{out}");
    assert!(out.contains("(__jobs_codec_conn () . 0)"), "{out}");
    assert!(out.contains("(__jobs_codec_conn () . 1)"), "{out}");
}

#[test]
fn continuable_jobs_declare_their_settings() {
    let out = expand(
        quote!(continuable(max_resumptions = 2, resume_wait = "1s")),
        quote!(
            async fn j(a: u8) {}
        ),
    );
    assert!(out.contains("const CONTINUABLE"), "{out}");
    assert!(out.contains("Continuable :: new () . max_resumptions (2u32)"), "{out}");
    assert!(out.contains("from_nanos (1000000000u64)"), "{out}");
    let plain = expand(
        quote!(),
        quote!(
            async fn j(a: u8) {}
        ),
    );
    assert!(!plain.contains("CONTINUABLE"), "{plain}");
}

#[test]
fn flow_keys_bind_the_job_and_borrow_its_fields() {
    let out = expand(
        quote!(limits_concurrency(to = 2, key = |job| job.account), unique(key = tenant_key)),
        quote!(
            async fn charge(account: String) {}
        ),
    );
    assert!(out.contains("const FLOW : :: jobs :: __private :: FlowControl"), "{out}");
    assert!(out.contains("let job : & Self = self ;"), "{out}");
    assert!(out.contains("to_string (& (job . account))"), "{out}");
    assert!(out.contains("to_string (& tenant_key (self))"), "{out}");
    assert!(out.contains("OnConflict :: Block"), "{out}");
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn no_flow_control_generates_nothing() {
    let out = expand(
        quote!(),
        quote!(
            async fn plain(a: u8) {}
        ),
    );
    assert!(!out.contains("FLOW") && !out.contains("flow_key"), "{out}");
}
