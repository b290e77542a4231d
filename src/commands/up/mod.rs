//! `harness up`: start the environment, hand its addresses to the caller, wait for a
//! signal, tear everything down. A signal during start-up drops the half-started
//! environment, whose parts stop themselves on drop.

use crate::environment::{EnvConfig, EnvError, Environment};
use crate::exit::Outcome;
use crate::results::ReadyInfo;
use crate::shutdown;

/// What `harness up` will do.
#[derive(Debug, Clone)]
pub struct UpPlan {
    /// The environment to start.
    pub env: EnvConfig,
    /// Print one JSON line instead of text when ready.
    pub json: bool,
    /// `--scrape`: the SUT Prometheus scrapes.
    pub scrape: Option<std::net::SocketAddr>,
}

/// Why `harness up` ended in error.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    /// The environment could not start or stop.
    #[error("environment")]
    Env(#[from] EnvError),
    /// The ready line could not be written.
    #[error("writing the ready line")]
    Ready(#[source] std::io::Error),
}

/// Starts `config` (with Prometheus scraping `plan_scrape`, when the alert components
/// run), calls `ready` with its addresses, and waits for Ctrl-C or SIGTERM.
pub async fn up(
    config: EnvConfig,
    plan_scrape: Option<std::net::SocketAddr>,
    ready: impl FnOnce(&ReadyInfo) -> std::io::Result<()>,
) -> Result<Outcome, UpError> {
    let signal = shutdown::signalled();
    tokio::pin!(signal);
    let env = tokio::select! {
        env = Environment::start(config) => env?,
        s = &mut signal => {
            eprintln!("harness up: {s} during start-up; stopped what had started");
            return Ok(Outcome::Error);
        }
    };
    if let (Some(sut), Some(a)) = (plan_scrape, env.alerting()) {
        a.target(sut);
    }
    if let Err(e) = ready(&env.ready_info()) {
        env.shutdown().await?;
        return Err(UpError::Ready(e));
    }
    let s = signal.await;
    eprintln!("harness up: {s}; tearing down");
    env.shutdown().await?;
    Ok(Outcome::Passed)
}
