//! The body of every [`Backend`](crate::Backend) and [`Inspect`](crate::Inspect) method that
//! hands the work to the adapter's own async method.

use std::future::Future;

use crate::contract::BoxFuture;
use crate::contract::Error;

/// `call` — an adapter's own async method, failing with the adapter's own error type — as the
/// boxed future failing with [`Error`] that the trait methods return. It is exactly
/// `Box::pin(async move { Ok(call.await?) })`, named once so that a trait impl reads as a list
/// of what each method does.
///
/// ```
/// use jobs_core::adapter::forward;
/// use jobs_core::{BoxFuture, Error};
///
/// #[derive(Debug)]
/// struct StoreError(String);
///
/// impl std::fmt::Display for StoreError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str(&self.0)
///     }
/// }
///
/// impl std::error::Error for StoreError {}
///
/// impl From<StoreError> for Error {
///     fn from(error: StoreError) -> Self {
///         Error::adapter("Store", error)
///     }
/// }
///
/// struct Store;
///
/// impl Store {
///     async fn paused_queues(&self) -> Result<Vec<String>, StoreError> {
///         Ok(vec!["mailers".to_owned()])
///     }
///
///     // As in `impl Inspect for Store`:
///     fn paused(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
///         forward(self.paused_queues())
///     }
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// assert_eq!(runtime.block_on(Store.paused()).unwrap(), ["mailers"]);
/// ```
pub fn forward<'a, T, E>(call: impl Future<Output = Result<T, E>> + Send + 'a) -> BoxFuture<'a, Result<T, Error>>
where
    E: Into<Error>,
{
    Box::pin(async move { call.await.map_err(Into::into) })
}

#[cfg(test)]
mod tests {
    use super::forward;
    use crate::contract::Error;

    #[tokio::test]
    async fn passes_values_through_and_converts_errors() {
        let ok = forward(async { Ok::<_, Error>(3) }).await;
        assert_eq!(ok.unwrap(), 3);
        let failed = forward(async { Err::<(), _>(Error::Config("no".into())) }).await;
        assert!(matches!(failed, Err(Error::Config(message)) if message == "no"));
        struct DiskFull;
        impl From<DiskFull> for Error {
            fn from(_: DiskFull) -> Self {
                Error::adapter("Store", "disk full")
            }
        }
        let converted = forward(async { Err::<(), _>(DiskFull) }).await.unwrap_err();
        assert!(matches!(&converted, Error::Adapter(error) if error.adapter() == "Store"), "{converted}");
    }
}
