//! What a chaos run will do, validated before anything starts: the faults, the phase
//! lengths, and the SUT's resilience settings that the expectations are judged against.

use std::collections::BTreeMap;
use std::time::Duration;

use super::expect::Expectation;
use super::recovery::Band;
use crate::faults::{Deadlines, Fault};

/// Phase lengths: baseline, then the fault, then recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    /// Before any fault; its level is the reference for recovery.
    pub baseline: Duration,
    /// While the faults are in place.
    pub fault: Duration,
    /// After the faults are removed.
    pub recovery: Duration,
}

impl Phases {
    /// The whole load phase.
    pub fn total(&self) -> Duration {
        self.baseline + self.fault + self.recovery
    }

    /// When the faults go in, from the start of load.
    pub fn fault_start(&self) -> Duration {
        self.baseline
    }

    /// When the faults come out, from the start of load.
    pub fn fault_end(&self) -> Duration {
        self.baseline + self.fault
    }
}

/// A scenario's `sut_env` setting that is not a whole number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sut_env.{var}: '{value}' is not a whole number")]
pub struct SettingError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
}

/// The SUT's resilience settings, as the contract's environment gives them (seed
/// defaults unless the scenario's `sut_env` overrides them). Expectations such as "no
/// more LLM calls than the breaker's threshold" are judged against these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SutLimits {
    /// Seed 002 §3.2: consecutive failures that open the breaker.
    pub breaker_threshold: u32,
    /// Seed 002 §3.2: how long the breaker stays open before a probe.
    pub breaker_timeout: Duration,
    /// Seed 002 §3.1: the budget for parallel retrieval.
    pub retrieval_timeout: Duration,
    /// Seed 002 §1.3: the primary LLM call's timeout.
    pub llm_timeout: Duration,
    /// The deadline of the SUT's Redis commands.
    pub redis_timeout: Duration,
    /// Seed 001: the health check's deadline for the database.
    pub health_timeout: Duration,
}

impl SutLimits {
    /// The deadlines past which a slowed dependency has failed for the SUT.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            llm: self.llm_timeout,
            db: self.health_timeout,
            redis: self.redis_timeout,
        }
    }

    /// The seed defaults with `sut_env`'s overrides. A value that does not parse is an
    /// error naming the variable, as the SUT itself would refuse it.
    pub fn from_env(sut_env: &BTreeMap<String, String>) -> Result<Self, SettingError> {
        let bad = |var: &'static str, v: &str| SettingError {
            var,
            value: v.to_owned(),
        };
        let ms = |var: &'static str, default_ms: u64| match sut_env.get(var) {
            None => Ok(Duration::from_millis(default_ms)),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| bad(var, v)),
        };
        let threshold = match sut_env.get("SUT_BREAKER_THRESHOLD") {
            None => 5,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .map_err(|_| bad("SUT_BREAKER_THRESHOLD", v))?,
        };
        Ok(SutLimits {
            breaker_threshold: threshold.max(1),
            breaker_timeout: ms("SUT_BREAKER_TIMEOUT_MS", 60_000)?,
            retrieval_timeout: ms("SUT_RETRIEVAL_TIMEOUT_MS", 5_000)?,
            llm_timeout: ms("SUT_LLM_TIMEOUT_MS", 30_000)?,
            // The reference SUT's Redis deadline (sut/src/state.rs); not configurable.
            redis_timeout: Duration::from_millis(500),
            health_timeout: Duration::from_secs(1),
        })
    }
}

/// The kinds of `faults`, joined by `+`: how a chaos run and its matrix row are named.
pub fn label(faults: &[Fault]) -> String {
    faults.iter().map(Fault::kind).collect::<Vec<_>>().join("+")
}

/// A validated chaos run.
#[derive(Debug, Clone)]
pub struct ChaosSpec {
    /// Applied together at the start of the fault phase, removed at its end.
    pub faults: Vec<Fault>,
    /// Phase lengths.
    pub phases: Phases,
    /// The expectations that apply to these faults.
    pub expectations: Vec<Expectation>,
    /// What "back to baseline" means.
    pub band: Band,
    /// The SUT's resilience settings.
    pub limits: SutLimits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_the_sut_settings() {
        let mut env = BTreeMap::new();
        let seed = SutLimits::from_env(&env).expect("defaults").deadlines();
        let slow = |s| Fault::LlmLatency(Duration::from_secs(s));
        assert!(!slow(10).is_failing(&seed));
        assert!(slow(30).is_failing(&seed));
        env.insert("SUT_LLM_TIMEOUT_MS".into(), "3000".into());
        let fast = SutLimits::from_env(&env).expect("fast").deadlines();
        assert!(slow(10).is_failing(&fast));
        env.insert("SUT_BREAKER_TIMEOUT_MS".into(), "soon".into());
        assert!(SutLimits::from_env(&env)
            .unwrap_err()
            .to_string()
            .contains("SUT_BREAKER_TIMEOUT_MS"));
    }
}
