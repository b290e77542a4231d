//! Errors of the service subsystem: building, starting and stopping the system under
//! test. Each ends with the tail of the relevant log, since that is where the cause is.

use std::time::Duration;

/// Everything that can go wrong getting the SUT up or down.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `cargo build --workspace --bin sut` failed.
    #[error("building the reference SUT failed ({command}):\n{tail}")]
    Build {
        /// The command that ran.
        command: String,
        /// The end of cargo's output.
        tail: String,
    },
    /// The SUT process could not be spawned.
    #[error("starting the SUT ({command})")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The SUT exited before it became ready.
    #[error(
        "the SUT exited before it was ready ({status}); last lines of its log ({log}):\n{tail}"
    )]
    Exited {
        /// The exit status.
        status: String,
        /// The log file.
        log: String,
        /// The end of the log.
        tail: String,
    },
    /// `/ready` did not answer 200 in time.
    #[error("the SUT was not ready at {url} after {:.1}s (last answer: {last}); last lines of its log ({log}):\n{tail}", timeout.as_secs_f64())]
    NotReady {
        /// The readiness URL.
        url: String,
        /// How long we waited.
        timeout: Duration,
        /// The last status or connection error seen.
        last: String,
        /// The log file.
        log: String,
        /// The end of the log.
        tail: String,
    },
    /// A SUT run elsewhere (`--sut-url` of a chaos shard) did not answer `/ready` in time.
    #[error("the SUT at {url} was not ready after {:.1}s (last answer: {last}); is the shard that starts it (shard 0) running?", timeout.as_secs_f64())]
    UrlNotReady {
        /// The readiness URL.
        url: String,
        /// How long we waited.
        timeout: Duration,
        /// The last status or connection error seen.
        last: String,
    },
    /// Stopping the SUT failed.
    #[error("stopping the SUT")]
    Stop(#[source] std::io::Error),
}
