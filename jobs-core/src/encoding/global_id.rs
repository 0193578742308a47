//! GlobalID: records passed to jobs by reference, as `gid://APP/Model/ID`, and loaded again when
//! the job runs, as Rails' `GlobalID::Identification` and `GlobalID::Locator` do.

use std::fmt;
use std::future::Future;
use std::ops::Deref;

use serde_json::{Value, json};

use crate::contract::EncodeContext;
use crate::contract::{BoxError, Error, JobContext};
use crate::encoding::arguments::{GLOBALID, Locate, RichArgument};

/// A record that jobs receive by its global id and load again when they run.
///
/// `locate` gets the job's context, so it can reach application state such as a database pool
/// (`ctx.state::<SqlitePool>()`). For a sqlx model, [`sqlx_global_id!`](crate::sqlx_global_id)
/// writes this impl in one line.
///
/// ```
/// use jobs_core::{BoxError, GlobalId, JobContext};
///
/// struct User { id: i64, email: String }
/// struct Db;
/// impl Db { async fn find_user(&self, id: i64) -> Result<Option<User>, BoxError> { Ok(None) } }
///
/// impl GlobalId for User {
///     const MODEL: &'static str = "User";
///
///     fn model_id(&self) -> String {
///         self.id.to_string()
///     }
///
///     async fn locate(id: &str, ctx: &JobContext) -> Result<Option<Self>, BoxError> {
///         ctx.state::<Db>()?.find_user(id.parse()?).await
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a record with a global id",
    label = "`Global<T>` needs `T: GlobalId`",
    note = "implement `jobs::GlobalId` for it (its model name, its id, and how to load it), or use `jobs::sqlx_global_id!` for a sqlx model"
)]
pub trait GlobalId: Sized + Send + 'static {
    /// The model's name in global ids, Rails' class name: `User` in `gid://myapp/User/42`.
    const MODEL: &'static str;

    /// The record's id, the last part of its global id.
    fn model_id(&self) -> String;

    /// Loads the record with this id; `Ok(None)` when there is none (it was deleted), which
    /// fails the job with a `DeserializationError` saying "record not found".
    fn locate(id: &str, ctx: &JobContext) -> impl Future<Output = Result<Option<Self>, BoxError>> + Send;

    /// The record's global id in application `app`: `gid://app/Model/id`.
    fn to_global_id(&self, app: &str) -> String {
        format_gid(app, Self::MODEL, &self.model_id())
    }
}

/// A record as a job argument: only its global id travels, `{"_aj_globalid": "gid://app/User/42"}`,
/// and the job receives the record loaded again with [`GlobalId::locate`].
///
/// Inside a job it is always loaded and derefs to the record. A record deleted before the job
/// runs fails the job with [`Error::Deserialization`] (class `ActiveJob::DeserializationError`,
/// message "... record not found: gid://..."), which `discard_on` can match. The application's
/// name in global ids comes from `Runtime::builder().app_name("myapp")`.
///
/// ```no_run
/// use jobs_core::Global;
/// # use jobs_core::{BoxError, GlobalId, JobContext};
/// # struct User { id: i64, email: String }
/// # impl GlobalId for User {
/// #     const MODEL: &'static str = "User";
/// #     fn model_id(&self) -> String { self.id.to_string() }
/// #     async fn locate(id: &str, ctx: &JobContext) -> Result<Option<Self>, BoxError> { Ok(None) }
/// # }
/// // with #[job] async fn send_welcome(user: Global<User>) { println!("{}", user.email) }:
/// let user = User { id: 42, email: "ada@example.com".into() };
/// let argument = Global::new(user);          // or `user.into()`; or, without loading it:
/// let argument = Global::<User>::from_id(42);
/// ```
pub struct Global<T> {
    id: String,
    app: Option<String>,
    record: Option<T>,
}

impl<T: GlobalId> Global<T> {
    /// A loaded record, to pass to a job.
    pub fn new(record: T) -> Self {
        Global { id: record.model_id(), app: None, record: Some(record) }
    }

    /// The record with this id, not loaded: the job loads it when it runs.
    pub fn from_id(id: impl ToString) -> Self {
        Global { id: id.to_string(), app: None, record: None }
    }

    /// The record of a global id such as `gid://myapp/User/42`, not loaded; fails if the text is
    /// not a global id or names another model.
    pub fn parse(gid: &str) -> Result<Self, Error> {
        parse_for::<T>(gid).map_err(Error::InvalidPayload)
    }

    /// The record's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The application named in the global id this was decoded from, if it was decoded.
    pub fn app(&self) -> Option<&str> {
        self.app.as_deref()
    }

    /// The record, if it is loaded.
    pub fn record(&self) -> Option<&T> {
        self.record.as_ref()
    }

    /// The record, if it is loaded.
    pub fn into_record(self) -> Option<T> {
        self.record
    }

    /// Loads the record if it is not loaded yet; fails as a job would ("record not found").
    pub async fn load(self, ctx: &JobContext) -> Result<Self, Error> {
        self.load_as(ctx, None).await
    }

    async fn load_as(self, ctx: &JobContext, argument: Option<&str>) -> Result<Self, Error> {
        if self.record.is_some() {
            return Ok(self);
        }
        let error = |message: String| Error::Deserialization {
            job: ctx.job_class().to_owned(),
            message: match argument {
                Some(argument) => format!("argument `{argument}`: {message}"),
                None => message,
            },
        };
        let app = match (self.app.as_deref(), ctx.app_name()) {
            (_, None) => {
                return Err(error(format!(
                    "cannot locate a {}: the runtime has no app name for global ids; set it with \
                     Runtime::builder().app_name(\"myapp\")",
                    T::MODEL
                )));
            }
            (Some(app), Some(ours)) if app != ours => {
                let gid = format_gid(app, T::MODEL, &self.id);
                return Err(error(format!("{gid} belongs to app `{app}`, this runtime's app is `{ours}`")));
            }
            (_, Some(ours)) => ours,
        };
        let gid = format_gid(app, T::MODEL, &self.id);
        match T::locate(&self.id, ctx).await {
            Ok(Some(record)) => Ok(Global { record: Some(record), ..self }),
            Ok(None) => Err(error(format!("record not found: {gid}"))),
            Err(e) => Err(error(format!("cannot locate {gid}: {e}"))),
        }
    }
}

impl<T: GlobalId> From<T> for Global<T> {
    fn from(record: T) -> Self {
        Global::new(record)
    }
}

/// The loaded record.
///
/// # Panics
///
/// If the record is not loaded: a job always receives it loaded; elsewhere, call
/// [`Global::load`] or use [`Global::record`].
impl<T: GlobalId> Deref for Global<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.record {
            Some(record) => record,
            None => panic!("Global<{}> with id {} is not loaded: call `load` first", T::MODEL, self.id),
        }
    }
}

impl<T: GlobalId + Clone> Clone for Global<T> {
    fn clone(&self) -> Self {
        Global { id: self.id.clone(), app: self.app.clone(), record: self.record.clone() }
    }
}

impl<T: GlobalId + fmt::Debug> fmt::Debug for Global<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Global")
            .field("model", &T::MODEL)
            .field("id", &self.id)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl<T: GlobalId> RichArgument for Global<T> {
    fn encode(&self, cx: &EncodeContext<'_>) -> Result<Value, BoxError> {
        let app = match (&self.app, cx.app()) {
            (Some(app), _) => app.as_str(),
            (None, Some(app)) => app,
            (None, None) => {
                return Err(format!(
                    "a global id needs the application's name: set it with Runtime::builder().app_name(\"myapp\") \
                     (for gid://myapp/{}/{})",
                    T::MODEL,
                    self.id
                )
                .into());
            }
        };
        Ok(json!({ GLOBALID: format_gid(app, T::MODEL, &self.id) }))
    }

    fn decode(value: Value) -> Result<Self, BoxError> {
        let text = match value {
            Value::Object(mut map) => match map.remove(GLOBALID) {
                Some(Value::String(text)) => text,
                _ => return Err(format!("expected a record of {} (`_aj_globalid`), found a hash", T::MODEL).into()),
            },
            Value::String(text) => text,
            _ => return Err(format!("expected a record of {} (`_aj_globalid`)", T::MODEL).into()),
        };
        Ok(parse_for::<T>(&text)?)
    }
}

impl<T: GlobalId> Locate for Global<T> {
    async fn locate(self, ctx: &JobContext, argument: &str) -> Result<Self, Error> {
        self.load_as(ctx, Some(argument)).await
    }
}

/// `gid://app/Model/id`, the id escaped as Ruby's `CGI.escape` does.
fn format_gid(app: &str, model: &str, id: &str) -> String {
    let mut gid = format!("gid://{app}/{model}/");
    for byte in id.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => gid.push(byte as char),
            b' ' => gid.push('+'),
            other => gid.push_str(&format!("%{other:02X}")),
        }
    }
    gid
}

/// Reads `gid://app/Model/id` (query parameters ignored) for a record of type `T`.
fn parse_for<T: GlobalId>(text: &str) -> Result<Global<T>, String> {
    let invalid = || format!("`{text}` is not a global id (gid://APP/{}/ID)", T::MODEL);
    let rest = text.strip_prefix("gid://").ok_or_else(invalid)?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let mut parts = rest.splitn(3, '/');
    let (Some(app), Some(model), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if app.is_empty() || model.is_empty() || id.is_empty() {
        return Err(invalid());
    }
    if model != T::MODEL {
        return Err(format!("{text} is a {model}, expected a {}", T::MODEL));
    }
    Ok(Global { id: unescape(id).ok_or_else(invalid)?, app: Some(app.to_owned()), record: None })
}

fn unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                let hex = [input.next()?, input.next()?];
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

/// Implements [`GlobalId`] for a sqlx model: `sqlx_global_id!(User, table = "users", key = id: i64,
/// pool = sqlx::SqlitePool)`.
///
/// The model's name in global ids is the type's name; the key is the field (and column) that
/// identifies a record, and its type; the pool is application state of the runtime
/// (`Runtime::builder().state(pool)`). The record is loaded with
/// `SELECT * FROM table WHERE key = $1` (SQLite and PostgreSQL placeholders), so the type
/// derives `sqlx::FromRow`, and the calling crate depends on `sqlx`.
///
/// ```ignore
/// #[derive(sqlx::FromRow)]
/// struct User { id: i64, email: String }
///
/// jobs::sqlx_global_id!(User, table = "users", key = id: i64, pool = sqlx::SqlitePool);
/// ```
#[macro_export]
macro_rules! sqlx_global_id {
    ($model:ident, table = $table:literal, key = $key:ident : $key_ty:ty, pool = $pool:ty $(,)?) => {
        impl $crate::GlobalId for $model {
            const MODEL: &'static str = ::core::stringify!($model);

            fn model_id(&self) -> ::std::string::String {
                ::std::string::ToString::to_string(&self.$key)
            }

            async fn locate(
                id: &str,
                ctx: &$crate::JobContext,
            ) -> ::core::result::Result<::core::option::Option<Self>, $crate::BoxError> {
                let key: $key_ty = id.parse().map_err(|e| ::std::format!("invalid id `{id}`: {e}"))?;
                let pool = ctx.state::<$pool>()?;
                let query = ::core::concat!("SELECT * FROM ", $table, " WHERE ", ::core::stringify!($key), " = $1");
                ::core::result::Result::Ok(sqlx::query_as::<_, Self>(query).bind(key).fetch_optional(&*pool).await?)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct User;

    impl GlobalId for User {
        const MODEL: &'static str = "User";
        fn model_id(&self) -> String {
            "1".into()
        }
        async fn locate(_: &str, _: &JobContext) -> Result<Option<Self>, BoxError> {
            Ok(None)
        }
    }

    #[test]
    fn global_ids_escape_like_ruby() {
        assert_eq!(format_gid("app", "User", "a b/c%"), "gid://app/User/a+b%2Fc%25");
        let parsed = Global::<User>::parse("gid://app/User/a+b%2Fc%25?x=1").unwrap();
        assert_eq!((parsed.id(), parsed.app()), ("a b/c%", Some("app")));
    }

    #[test]
    fn parse_checks_the_model() {
        let err = Global::<User>::parse("gid://app/Post/1").unwrap_err().to_string();
        assert_eq!(err, "invalid job payload: gid://app/Post/1 is a Post, expected a User");
        let err = Global::<User>::parse("gid://app/User").unwrap_err().to_string();
        assert_eq!(err, "invalid job payload: `gid://app/User` is not a global id (gid://APP/User/ID)");
    }
}
