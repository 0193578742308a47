//! `EncodeContext`: what encoding a job's arguments needs from the runtime it is enqueued on.

/// What encoding needs from the runtime a job is enqueued on, passed explicitly: the application's
/// name, which records ([`Global<T>`](crate::Global)) write into their global ids.
///
/// The runtime makes one per enqueue; a hand-written [`Job::to_arguments`](crate::Job::to_arguments)
/// passes it on to [`to_rich_argument`](crate::encoding::to_rich_argument) and
/// [`RichArgument::encode`](crate::encoding::RichArgument::encode).
///
/// ```
/// use jobs_core::encoding::EncodeContext;
///
/// let cx = EncodeContext::new().app_name("shop");
/// assert_eq!(cx.app(), Some("shop"));
/// assert_eq!(EncodeContext::new().app(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeContext<'a> {
    app_name: Option<&'a str>,
}

impl<'a> EncodeContext<'a> {
    /// A context with nothing set: encoding a record without an app name of its own fails.
    pub const fn new() -> Self {
        EncodeContext { app_name: None }
    }

    /// The application's name in global ids (`gid://APP/Model/ID`).
    pub const fn app_name(mut self, name: &'a str) -> Self {
        self.app_name = Some(name);
        self
    }

    /// The application's name in global ids, if set.
    pub const fn app(&self) -> Option<&'a str> {
        self.app_name
    }
}
