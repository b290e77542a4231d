//! Turns SIGINT and SIGTERM into a future, so every long wait can race against it and
//! tear down what it started.

use std::fmt;

/// The signal that asked the harness to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a CI runner's cancellation, or a container stop.
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// Resolves when the process receives SIGINT or SIGTERM.
///
/// Handlers are installed on first poll; create the future early (before starting
/// anything) so that a signal arriving during start-up is not lost.
pub async fn signalled() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        Some(_) = async { match int.as_mut() { Some(s) => s.recv().await, None => None } } => Signal::Interrupt,
        Some(_) = async { match term.as_mut() { Some(s) => s.recv().await, None => None } } => Signal::Terminate,
        else => std::future::pending::<Signal>().await,
    }
}
