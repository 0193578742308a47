//! `web`: the dashboard of `jobs-web`, served alone until SIGTERM or SIGINT.

use jobs_web::Dashboard;

use crate::args::WebArgs;
use crate::database::Store;
use crate::exit::Failure;

const CHOOSE: &str = "choose who may use the dashboard: --basic-auth USER:PASSWORD (or JOBS_WEB_BASIC_AUTH), \
or --open for no authentication (on a loopback address, or behind your own authenticating proxy)";

/// Who may use the dashboard, from the flags.
#[derive(Debug, PartialEq, Eq)]
enum Access {
    Basic { user: String, password: String },
    Open,
}

impl Access {
    fn from_args(args: &WebArgs) -> Result<Access, Failure> {
        match (&args.basic_auth, args.open) {
            (Some(credentials), _) => {
                let (user, password) = credentials
                    .split_once(':')
                    .filter(|(user, password)| !user.is_empty() && !password.is_empty())
                    .ok_or_else(|| Failure::Usage("--basic-auth takes USER:PASSWORD, both non-empty".into()))?;
                Ok(Access::Basic { user: user.to_owned(), password: password.to_owned() })
            }
            (None, true) => Ok(Access::Open),
            (None, false) => Err(Failure::Usage(CHOOSE.into())),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Access::Basic { .. } => "basic auth",
            Access::Open => "open: no authentication",
        }
    }

    fn apply(self, dashboard: Dashboard) -> Dashboard {
        match self {
            Access::Basic { user, password } => dashboard.basic_auth(user, password),
            Access::Open => dashboard.open(),
        }
    }
}

/// Serves the dashboard of the store `open` opens on `args.addr` until SIGTERM or SIGINT.
pub(super) async fn serve<F>(args: &WebArgs, open: impl FnOnce() -> F) -> Result<(), Failure>
where
    F: Future<Output = Result<Store, Failure>>,
{
    // The flags are checked before the store is opened: a usage error needs no database.
    let access = Access::from_args(args)?;
    if access == Access::Open && !args.addr.ip().is_loopback() {
        tracing::warn!(target: "jobs", addr = %args.addr, "The dashboard is open to everyone who can reach this address");
    }
    let how = access.describe();
    let store = open().await?;
    let router = access
        .apply(Dashboard::new(store.adapter().clone()))
        .read_only(args.read_only)
        .hide_arguments(args.hide_arguments)
        .router();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::Failed(format!("cannot serve the dashboard on {}: {e}", args.addr)))?;
    let bound = listener.local_addr().map_err(|e| Failure::Failed(format!("dashboard: {e}")))?;
    let read_only = if args.read_only { ", read-only" } else { "" };
    eprintln!("Serving the jobs dashboard of {} on http://{bound}/ ({how}{read_only}); Ctrl-C stops it", store.shown());
    axum::serve(listener, router)
        .with_graceful_shutdown(jobs_core::shutdown_signal())
        .await
        .map_err(|e| Failure::Failed(format!("the dashboard stopped: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(basic_auth: Option<&str>, open: bool) -> WebArgs {
        WebArgs {
            addr: "127.0.0.1:0".parse().unwrap(),
            basic_auth: basic_auth.map(str::to_owned),
            open,
            read_only: false,
            hide_arguments: false,
        }
    }

    fn how(args: &WebArgs) -> Result<&'static str, String> {
        Access::from_args(args).map(|access| access.describe()).map_err(|e| e.to_string())
    }

    #[test]
    fn the_flags_choose_who_gets_in() {
        assert_eq!(how(&args(Some("ops:pw:with:colons"), false)), Ok("basic auth"));
        assert_eq!(how(&args(None, true)), Ok("open: no authentication"));
        assert!(how(&args(None, false)).unwrap_err().contains("--basic-auth USER:PASSWORD"));
        assert!(how(&args(Some("ops"), false)).unwrap_err().contains("USER:PASSWORD"));
        assert!(how(&args(Some(":pw"), false)).is_err());
    }
}
