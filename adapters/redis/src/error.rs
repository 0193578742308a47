//! What can go wrong with the Redis store.

/// Errors of the Redis adapter; they reach callers as the source of
/// [`jobs_core::Error::Adapter`], where [`AdapterError::downcast_ref`](jobs_core::AdapterError::downcast_ref)
/// reaches them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// Redis failed a command, or the connection was lost: authentication, a script error. The
    /// `redis::RedisError` is kept here rather than as the error's `source()`, so that a printed
    /// chain does not repeat it.
    #[error("{0}")]
    Redis(redis::RedisError),
    /// The server could not be reached when connecting: refused, unknown host, no answer in time.
    #[error("cannot connect to Redis at {at}: {cause}")]
    Connect {
        /// Where: `host:port` or the Unix socket, never the password.
        at: String,
        /// Why, in a few words (`connection refused`, ...).
        cause: String,
    },
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

impl From<redis::RedisError> for RedisError {
    fn from(error: redis::RedisError) -> Self {
        RedisError::Redis(error)
    }
}

impl From<RedisError> for jobs_core::Error {
    fn from(error: RedisError) -> Self {
        jobs_core::Error::adapter("Redis", error)
    }
}
