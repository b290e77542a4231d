//! What a chaos run will do, validated before anything starts: the faults, the phase
//! lengths, and the SUT's resilience settings that the expectations are judged against.

use std::collections::BTreeMap;
use std::time::Duration;

use super::expect::Expectation;
use super::fault::{parse_duration, parse_rate, parse_status, Fault, Target};
use super::recovery::Band;
use crate::llm::FailStatus;

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
    /// The seed defaults with `sut_env`'s overrides. A value that does not parse is an
    /// error naming the variable, as the SUT itself would refuse it.
    pub fn from_env(sut_env: &BTreeMap<String, String>) -> Result<Self, String> {
        let ms = |var: &str, default_ms: u64| -> Result<Duration, String> {
            match sut_env.get(var) {
                None => Ok(Duration::from_millis(default_ms)),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("sut_env.{var}: '{v}' is not a number of milliseconds")),
            }
        };
        let threshold = match sut_env.get("SUT_BREAKER_THRESHOLD") {
            None => 5,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("sut_env.SUT_BREAKER_THRESHOLD: '{v}' is not a count"))?,
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

impl Fault {
    /// Parses one fault as written in a scenario's `[chaos] faults` or the matrix:
    /// the flag's name without dashes and its value, e.g. `llm-fail 1.0`,
    /// `llm-fail 1.0 529`, `db-latency 10s`, `redis-down`, `bandwidth 8 on db`,
    /// `slicer on redis`. Errors name `origin`.
    pub fn parse_spec(origin: &str, spec: &str) -> Result<Fault, String> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let head = if origin.is_empty() {
            format!("'{spec}'")
        } else {
            format!("{origin}: '{spec}'")
        };
        let flag = |name: &str| format!("{head}: --{name}");
        let on = |i: usize, name: &str| -> Result<Target, String> {
            match (words.get(i), words.get(i + 1)) {
                (Some(&"on"), Some(t)) => Target::parse(&format!("{} --on", flag(name)), t),
                _ => Err(format!("{head}: write '{name} … on db|redis|llm'")),
            }
        };
        let value = |i: usize, name: &str| -> Result<&str, String> {
            words
                .get(i)
                .copied()
                .ok_or_else(|| format!("{}: a value is needed", flag(name)))
        };
        let fault = match words.first().copied() {
            Some("llm-fail") => Fault::LlmFail {
                rate: parse_rate(&flag("llm-fail"), value(1, "llm-fail")?)?,
                status: match words.get(2) {
                    Some(s) => parse_status(&flag("llm-error"), s)?,
                    None => FailStatus::ApiError,
                },
            },
            Some("llm-latency") => Fault::LlmLatency(parse_duration(
                &flag("llm-latency"),
                value(1, "llm-latency")?,
            )?),
            Some("llm-timeout") => Fault::LlmTimeout,
            Some("db-latency") => Fault::Latency(
                Target::Db,
                parse_duration(&flag("db-latency"), value(1, "db-latency")?)?,
            ),
            Some("redis-latency") => Fault::Latency(
                Target::Redis,
                parse_duration(&flag("redis-latency"), value(1, "redis-latency")?)?,
            ),
            Some("db-down") => Fault::Down(Target::Db),
            Some("redis-down") => Fault::Down(Target::Redis),
            Some("bandwidth") => Fault::Bandwidth(
                on(2, "bandwidth")?,
                parse_kbps(&flag("bandwidth"), value(1, "bandwidth")?)?,
            ),
            Some("slicer") => Fault::Slicer(on(1, "slicer")?),
            other => {
                return Err(format!(
                    "{head}: '{}' is not a fault (llm-fail, llm-latency, llm-timeout, \
                     db-latency, db-down, redis-latency, redis-down, bandwidth, slicer)",
                    other.unwrap_or("")
                ))
            }
        };
        Ok(fault)
    }

    /// The fault's kind, as `fixtures/degradation.toml` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::LlmFail { .. } => "llm-fail",
            Fault::LlmLatency(_) => "llm-latency",
            Fault::LlmTimeout => "llm-timeout",
            Fault::Latency(Target::Db, _) => "db-latency",
            Fault::Latency(Target::Redis, _) => "redis-latency",
            Fault::Latency(Target::Llm, _) => "llm-latency",
            Fault::Down(Target::Db) => "db-down",
            Fault::Down(Target::Redis) => "redis-down",
            Fault::Down(Target::Llm) => "llm-down",
            Fault::Bandwidth(..) => "bandwidth",
            Fault::Slicer(_) => "slicer",
        }
    }

    /// Whether the fault makes its dependency fail outright for the SUT (rather than
    /// merely slow it): every LLM call fails or outlasts the SUT's timeout, the database
    /// misses the health check's deadline, Redis misses the SUT's command deadline.
    pub fn is_failing(&self, limits: &SutLimits) -> bool {
        match self {
            Fault::LlmFail { rate, .. } => *rate >= 1.0,
            Fault::LlmLatency(d) | Fault::Latency(Target::Llm, d) => *d >= limits.llm_timeout,
            Fault::LlmTimeout | Fault::Down(_) => true,
            Fault::Latency(Target::Db, d) => *d >= limits.health_timeout,
            Fault::Latency(Target::Redis, d) => *d >= limits.redis_timeout,
            Fault::Bandwidth(..) | Fault::Slicer(_) => false,
        }
    }
}

fn parse_kbps(flag: &str, v: &str) -> Result<u32, String> {
    match v.trim().parse::<u32>() {
        Ok(k) if k > 0 => Ok(k),
        _ => Err(format!("{flag}: '{v}' is not a positive number of KB/s")),
    }
}

/// The faults the matrix runs, one at a time: each fault of seed 002 §5.2 and the
/// fault layer's other toxics.
pub const MATRIX: &[&str] = &[
    "llm-fail 1.0",
    "llm-latency 30s",
    "llm-timeout",
    "db-latency 10s",
    "db-down",
    "redis-down",
    "redis-latency 1s",
    "bandwidth 4 on db",
    "slicer on db",
];

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
    fn specs_parse_like_flags_and_name_what_is_wrong() {
        let p = |s: &str| Fault::parse_spec("x.toml [chaos] faults", s);
        assert_eq!(
            p("llm-fail 1.0 529"),
            Ok(Fault::LlmFail {
                rate: 1.0,
                status: FailStatus::Overloaded
            })
        );
        assert_eq!(
            p("bandwidth 8 on redis"),
            Ok(Fault::Bandwidth(Target::Redis, 8))
        );
        assert_eq!(p("slicer on llm"), Ok(Fault::Slicer(Target::Llm)));
        assert!(p("llm-fail 2").unwrap_err().contains("--llm-fail"));
        assert!(p("db-latency").unwrap_err().contains("a value is needed"));
        assert!(p("bandwidth 8").unwrap_err().contains("on db|redis|llm"));
        assert!(p("bandwidth 8 on kafka").unwrap_err().contains("--on"));
        assert!(p("flood").unwrap_err().contains("not a fault"));
        for spec in MATRIX {
            assert!(p(spec).is_ok(), "{spec}");
        }
    }

    #[test]
    fn severity_follows_the_sut_settings() {
        let mut env = BTreeMap::new();
        let seed = SutLimits::from_env(&env).expect("defaults");
        assert!(!Fault::LlmLatency(Duration::from_secs(10)).is_failing(&seed));
        assert!(Fault::LlmLatency(Duration::from_secs(30)).is_failing(&seed));
        env.insert("SUT_LLM_TIMEOUT_MS".into(), "3000".into());
        let fast = SutLimits::from_env(&env).expect("fast");
        assert!(Fault::LlmLatency(Duration::from_secs(10)).is_failing(&fast));
        env.insert("SUT_BREAKER_TIMEOUT_MS".into(), "soon".into());
        assert!(SutLimits::from_env(&env)
            .unwrap_err()
            .contains("SUT_BREAKER_TIMEOUT_MS"));
    }
}
