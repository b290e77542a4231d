//! The SUT's resilience settings as the contract's environment gives them: the seeds'
//! defaults unless a `SUT_*` variable overrides them. Chaos expectations and the
//! certification cases that wait out a timer both read them from here.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Deadlines;

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
