//! What a chaos run will do, validated before anything starts: the faults, the phase
//! lengths, and the SUT's resilience settings that the expectations are judged against.

use std::time::Duration;

use super::expect::Expectation;
use super::recovery::Band;
use crate::faults::Fault;
pub use crate::faults::{SettingError, SutLimits};
use crate::results::ShardChaos;

/// The part of the baseline, before the faults go in, that is not scored.
pub const BASELINE_GUARD: Duration = Duration::from_secs(1);

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

    /// Where the baseline is scored to, for its phase and for the run's budgets: a guard
    /// second before the faults go in, since a request sent in that second may still
    /// wait on a dependency when the fault goes in, and meet it.
    pub fn baseline_end(&self) -> Duration {
        self.fault_start().saturating_sub(BASELINE_GUARD)
    }

    /// When the faults come out, from the start of load.
    pub fn fault_end(&self) -> Duration {
        self.baseline + self.fault
    }
}

impl ChaosSpec {
    /// What every shard of a sharded chaos run records of this spec, so the merge scores
    /// the whole against the same faults and phases.
    pub fn shard_info(&self) -> ShardChaos {
        let ms = |d: Duration| d.as_millis().min(u64::MAX as u128) as u64;
        ShardChaos {
            faults: self.faults.iter().map(Fault::spec).collect(),
            baseline_ms: ms(self.phases.baseline),
            fault_ms: ms(self.phases.fault),
            recovery_ms: ms(self.phases.recovery),
        }
    }
}

impl From<&ShardChaos> for Phases {
    fn from(s: &ShardChaos) -> Phases {
        Phases {
            baseline: Duration::from_millis(s.baseline_ms),
            fault: Duration::from_millis(s.fault_ms),
            recovery: Duration::from_millis(s.recovery_ms),
        }
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
    /// The alert rules and what each fault must raise, when the alert components run.
    pub alerts: Option<super::alerts::AlertSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
