//! The name of the host this process runs on, as worker processes report it.

/// The host's name: the kernel's (Linux), else `$HOSTNAME`, else `localhost`.
///
/// ```
/// let host = jobs_core::adapter::hostname();
/// assert!(!host.is_empty() && !host.contains('\n'));
/// ```
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
