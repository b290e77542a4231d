//! The documented exit codes, the one function that maps an outcome to them, and the
//! JSON line that `harness up --json` prints.

use serde::{Deserialize, Serialize};

/// Every budget was met (or, for commands without budgets, the command succeeded).
pub const SUCCESS: u8 = 0;
/// The run completed and at least one budget or expectation failed.
pub const BUDGET_FAILED: u8 = 1;
/// The harness could not run: bad input or an environment failure.
pub const HARNESS_ERROR: u8 = 2;
/// A chaos run met every budget and expectation of the service, but not of its alerts:
/// an expected alert was missed or slow, an alert did not clear, or one fired that
/// should not have. The service degraded as it should; on-call would not have known.
pub const ALERTS_FAILED: u8 = 3;

/// The prefix of every scored line about alerts, which alone fail with
/// [`ALERTS_FAILED`].
pub const ALERT_PREFIX: &str = "alerts.";

/// What a command came to, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything asked for held.
    Passed,
    /// Everything about the service held, but not its alerts.
    AlertsFailed,
    /// The command ran to the end and something failed its budget, expectation or
    /// regression threshold.
    Failed,
    /// The command could not run: bad input, or an environment or SUT failure.
    Error,
}

impl Outcome {
    /// The worst of several outcomes: an error outranks a failure, which outranks failed
    /// alerts, which outrank a pass.
    ///
    /// ```
    /// use harness_results::exit::Outcome;
    /// let all = [Outcome::Passed, Outcome::Error, Outcome::Failed];
    /// assert_eq!(Outcome::worst(all), Outcome::Error);
    /// assert_eq!(Outcome::worst([]), Outcome::Passed);
    /// ```
    pub fn worst(all: impl IntoIterator<Item = Outcome>) -> Outcome {
        all.into_iter().max().unwrap_or(Outcome::Passed)
    }
}

/// The process exit code for `outcome`: the only place the codes are decided.
///
/// ```
/// use harness_results::exit::{process_exit_code, Outcome, BUDGET_FAILED};
/// assert_eq!(process_exit_code(Outcome::Failed), BUDGET_FAILED);
/// ```
pub fn process_exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Passed => SUCCESS,
        Outcome::AlertsFailed => ALERTS_FAILED,
        Outcome::Failed => BUDGET_FAILED,
        Outcome::Error => HARNESS_ERROR,
    }
}

/// What `harness up --json` prints on one line once the environment is ready.
///
/// The `*_url` fields go through the fault layer; `direct` bypasses it and is meant
/// for setup (migrations, seeding) that must not be slowed by injected faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyInfo {
    /// `docker` or `native`.
    pub backend: String,
    /// Identifies this environment's containers (label `harness.session`) and processes.
    pub session: String,
    /// Postgres, through its Toxiproxy proxy.
    pub postgres_url: String,
    /// Redis, through its Toxiproxy proxy.
    pub redis_url: String,
    /// The LLM fake (Anthropic Messages API shape), through its Toxiproxy proxy.
    pub llm_url: String,
    /// The Toxiproxy REST API.
    pub toxiproxy_url: String,
    /// Prometheus, which scrapes the SUT and evaluates the alert rules (`harness up`
    /// starts it; absent when the alert components were not started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_url: Option<String>,
    /// Alertmanager, which routes the alerts to the harness's receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager_url: Option<String>,
    /// The same services without the fault layer.
    pub direct: DirectUrls,
}

/// Service URLs that bypass the fault layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectUrls {
    /// Postgres, straight to the server.
    pub postgres_url: String,
    /// Redis, straight to the server.
    pub redis_url: String,
    /// The LLM fake, straight to it.
    pub llm_url: String,
}
