//! Stable, machine-readable types: the documented exit codes and the JSON line that
//! `harness up --json` prints. Only serde lives here, so other tools can depend on it.

use serde::{Deserialize, Serialize};

/// Every budget was met (or, for commands without budgets, the command succeeded).
pub const SUCCESS: u8 = 0;
/// The run completed and at least one budget or expectation failed.
pub const BUDGET_FAILED: u8 = 1;
/// The harness could not run: bad input or an environment failure.
pub const HARNESS_ERROR: u8 = 2;

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
