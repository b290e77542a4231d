//! Alerts under chaos: the seeds' alert rules (`fixtures/alerts`) run in a real
//! Prometheus against the SUT while the faults go in and out, and each fault is judged
//! on the alerts it must raise (`[[alert]]` in `fixtures/degradation.toml`): how soon
//! each fired, which were missed, which fired that should not have, and how soon each
//! cleared.

pub mod expect;
pub mod rules;
pub mod score;

use std::time::{Duration, Instant};

pub use expect::AlertExpectation;
pub use rules::{Rule, RuleSet, Windows};

use crate::environment::{AlertsConfig, Received};
use crate::results::AlertNotice;

/// How often Prometheus scrapes the SUT and evaluates the rules: the seeds scrape every
/// 5 s (004); a second keeps the time to detect a measure of the rules, not the scrape.
pub const EVERY: Duration = Duration::from_secs(1);

/// The alert side of a chaos run.
#[derive(Debug, Clone)]
pub struct AlertSpec {
    /// The rules, rendered.
    pub rules: RuleSet,
    /// What each fault must raise.
    pub expectations: Vec<AlertExpectation>,
    /// The scrape and evaluation interval.
    pub every: Duration,
}

impl AlertSpec {
    /// What the environment starts the alert components with.
    pub fn config(&self) -> AlertsConfig {
        AlertsConfig {
            rules: self.rules.files.clone(),
            every: self.every,
        }
    }
}

/// The receiver's record as notices, in seconds from `epoch` (the start of load);
/// negative for what arrived before it.
pub fn notices(received: &[Received], epoch: Instant) -> Vec<AlertNotice> {
    received
        .iter()
        .map(|r| {
            let t_s = if r.at >= epoch {
                r.at.duration_since(epoch).as_secs_f64()
            } else {
                -epoch.duration_since(r.at).as_secs_f64()
            };
            AlertNotice {
                t_s,
                alert: r.alert.clone(),
                status: r.status,
                seed: r.seed.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
