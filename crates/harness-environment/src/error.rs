//! Errors of the environment subsystem. Each says which service and which step failed,
//! and where a process log exists, ends with its tail.

use std::time::Duration;

use harness_faults::FaultError;
use harness_llm_fake::LlmFakeError;

/// Everything that can stop the environment from coming up or going down cleanly.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The docker backend (chosen, or auto) found no daemon.
    #[error("docker backend: no Docker daemon answers at {endpoint}: {reason}")]
    DockerUnavailable {
        /// The socket or URL tried.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The native backend found no PostgreSQL server binaries.
    #[error("native backend: no initdb found (searched {searched}); install postgresql or set HARNESS_PG_BINDIR")]
    PostgresNotFound {
        /// Every place looked in.
        searched: String,
    },
    /// The reaper, which cleans up after a killed harness, could not start or listen.
    #[error("reaper")]
    Reaper(#[from] super::reaper::ReaperClientError),
    /// The native backend found no `redis-server`.
    #[error("native backend: no redis-server on PATH; install redis-server")]
    RedisNotFound,
    /// The native backend was asked for the alert components and one is not installed.
    #[error("native backend: no {program} on PATH; install Debian's prometheus and prometheus-alertmanager (ci/setup does)")]
    AlertProgramNotFound {
        /// The program looked for.
        program: &'static str,
    },
    /// Running as root with no unprivileged user to run Postgres as.
    #[error("native backend: running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")]
    NoUnprivilegedUser,
    /// A container image or container failed.
    #[error("{service} container ({image}): {message}")]
    Container {
        /// postgres, redis or toxiproxy.
        service: &'static str,
        /// The image reference.
        image: String,
        /// What failed.
        message: String,
    },
    /// A process or file operation failed.
    #[error("{what}")]
    Io {
        /// What the harness was doing.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A service did not become ready in time (or died while starting).
    #[error("{service} not ready after {:.1}s: {reason}{}", timeout.as_secs_f64(), tail(log_tail))]
    NotReady {
        /// Which service.
        service: &'static str,
        /// How long the harness waited.
        timeout: Duration,
        /// The last error seen.
        reason: String,
        /// The end of the service's log, if any.
        log_tail: Option<String>,
    },
    /// The fault layer failed.
    #[error(transparent)]
    Faults(#[from] FaultError),
    /// The LLM fake failed.
    #[error(transparent)]
    Llm(#[from] LlmFakeError),
}

fn tail(log: &Option<String>) -> String {
    match log {
        Some(t) if !t.trim().is_empty() => format!("\n--- log tail ---\n{}", t.trim_end()),
        _ => String::new(),
    }
}

impl EnvError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        EnvError::Io {
            what: what.into(),
            source,
        }
    }
}
