//! What can go wrong with the Redis store.

/// Errors of the Redis adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where they can be downcast.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// Redis failed or could not be reached: connection refused, authentication, a script error.
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    /// The server is older than this adapter needs.
    #[error("Redis {found} is too old: jobs-redis needs Redis 6.2 or newer (RPOP with a count)")]
    TooOld {
        /// The version the server reported.
        found: String,
    },
    /// A stored value cannot be read back, or a reply has an unexpected shape.
    #[error("malformed data in Redis: {0}")]
    Malformed(String),
}

impl From<RedisError> for jobs_core::Error {
    fn from(error: RedisError) -> Self {
        jobs_core::Error::adapter("Redis", error)
    }
}
