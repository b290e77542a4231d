//! Faults as values: what `harness chaos` flags and scenario fault timelines ask for,
//! validated up front (a rate in [0, 1], durations with units, a known target), and
//! applied to or removed from a running environment through the fault layer and the
//! LLM fake.

use std::fmt;
use std::time::Duration;

use crate::environment::{proxy, Environment};
use crate::faults::{FaultError, Stream, Toxic};

/// A fault that could not be applied or removed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The fault layer refused.
    #[error(transparent)]
    Layer(#[from] FaultError),
    /// The LLM fake refused.
    #[error("LLM fake: {0}")]
    Llm(String),
}
use crate::llm::{FailStatus, FailureMode, LatencyProfile};

/// A dependency the fault layer stands in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Postgres.
    Db,
    /// Redis.
    Redis,
    /// The LLM API.
    Llm,
}

impl Target {
    /// Parses `db`, `redis` or `llm`, naming `flag` on error.
    pub fn parse(flag: &str, v: &str) -> Result<Self, String> {
        match v.trim() {
            "db" | "postgres" => Ok(Target::Db),
            "redis" => Ok(Target::Redis),
            "llm" => Ok(Target::Llm),
            other => Err(format!("{flag}: '{other}' is not db, redis or llm")),
        }
    }

    fn proxy(self) -> &'static str {
        match self {
            Target::Db => proxy::POSTGRES,
            Target::Redis => proxy::REDIS,
            Target::Llm => proxy::LLM,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Db => "db",
            Target::Redis => "redis",
            Target::Llm => "llm",
        })
    }
}

/// One fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The LLM fake fails this fraction of calls with this status.
    LlmFail {
        /// In [0, 1].
        rate: f64,
        /// 429, 500 or 529.
        status: FailStatus,
    },
    /// The LLM fake answers this much later.
    LlmLatency(Duration),
    /// The LLM never answers (the connection hangs until the SUT gives up).
    LlmTimeout,
    /// Latency on every chunk to and from a dependency.
    Latency(Target, Duration),
    /// A dependency refuses connections.
    Down(Target),
    /// A dependency's bandwidth is capped, KB/s.
    Bandwidth(Target, u32),
    /// A dependency's data arrives in small delayed slices.
    Slicer(Target),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::LlmFail { rate, status } => write!(f, "llm-fail {rate} ({})", status.code()),
            Fault::LlmLatency(d) => write!(f, "llm-latency {}", humantime::format_duration(*d)),
            Fault::LlmTimeout => f.write_str("llm-timeout"),
            Fault::Latency(t, d) => write!(f, "{t}-latency {}", humantime::format_duration(*d)),
            Fault::Down(t) => write!(f, "{t}-down"),
            Fault::Bandwidth(t, k) => write!(f, "bandwidth {k} KB/s on {t}"),
            Fault::Slicer(t) => write!(f, "slicer on {t}"),
        }
    }
}

/// Parses a failure rate in [0, 1], naming `flag`.
pub fn parse_rate(flag: &str, v: &str) -> Result<f64, String> {
    let r: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a number (a rate from 0 to 1, e.g. 0.5)"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{flag}: {r} is outside 0..1"))
    }
}

/// Parses `429`, `500` or `529`, naming `flag`.
pub fn parse_status(flag: &str, v: &str) -> Result<FailStatus, String> {
    v.parse().map_err(|e| format!("{flag}: {e}"))
}

/// Parses a duration with a unit, naming `flag`; zero is refused.
pub fn parse_duration(flag: &str, v: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(v.trim()).map_err(|e| {
        format!("{flag}: '{v}' is not a duration with a unit such as 500ms or 10s ({e})")
    })?;
    if d.is_zero() {
        return Err(format!("{flag}: must be greater than 0"));
    }
    Ok(d)
}

/// How long the LLM hangs for `--llm-timeout`: longer than any SUT's LLM timeout.
const LLM_HANG: Duration = Duration::from_secs(600);

impl Fault {
    /// Puts the fault in place.
    pub async fn apply(&self, env: &Environment) -> Result<(), ApplyError> {
        let faults = env.faults();
        let llm = env.llm();
        let ms = |d: &Duration| d.as_millis().min(u32::MAX as u128) as u32;
        match self {
            Fault::LlmFail { rate, status } => {
                llm.set_failure(FailureMode {
                    rate: *rate,
                    status: *status,
                });
                Ok(())
            }
            Fault::LlmLatency(d) => set_llm_latency(env, *d),
            Fault::LlmTimeout => set_llm_latency(env, LLM_HANG),
            Fault::Latency(t, d) => {
                let toxic = Toxic::Latency {
                    ms: ms(d),
                    jitter_ms: 0,
                };
                Ok(faults
                    .add(t.proxy(), Stream::Downstream, toxic, 1.0)
                    .await?)
            }
            Fault::Down(t) => Ok(faults.disable(t.proxy()).await?),
            Fault::Bandwidth(t, kbps) => {
                let toxic = Toxic::Bandwidth { kbps: *kbps };
                Ok(faults
                    .add(t.proxy(), Stream::Downstream, toxic, 1.0)
                    .await?)
            }
            Fault::Slicer(t) => {
                let slicer = Toxic::Slicer {
                    average_size: 16,
                    size_variation: 8,
                    delay_us: 2_000,
                };
                Ok(faults
                    .add(t.proxy(), Stream::Downstream, slicer, 1.0)
                    .await?)
            }
        }
    }

    /// Takes the fault away again; `baseline` is the LLM profile to restore.
    pub async fn remove(
        &self,
        env: &Environment,
        baseline: &LatencyProfile,
    ) -> Result<(), ApplyError> {
        let faults = env.faults();
        match self {
            Fault::LlmFail { .. } => {
                env.llm().set_failure(FailureMode::NONE);
                Ok(())
            }
            Fault::LlmLatency(_) | Fault::LlmTimeout => env
                .llm()
                .set_profile(baseline.clone())
                .map_err(|e| ApplyError::Llm(e.to_string())),
            Fault::Latency(t, _) | Fault::Bandwidth(t, _) | Fault::Slicer(t) => {
                Ok(faults.clear(t.proxy()).await?)
            }
            Fault::Down(t) => Ok(faults.enable(t.proxy()).await?),
        }
    }
}

fn set_llm_latency(env: &Environment, d: Duration) -> Result<(), ApplyError> {
    let profile = LatencyProfile {
        base_ms: d.as_secs_f64() * 1000.0,
        spread: 0.0,
        per_output_token_ms: 0.0,
        output_tokens: 64,
    };
    env.llm()
        .set_profile(profile)
        .map_err(|e| ApplyError::Llm(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated_and_flags_named() {
        assert_eq!(parse_rate("--llm-fail", "1.0"), Ok(1.0));
        assert!(parse_rate("--llm-fail", "1.5")
            .unwrap_err()
            .contains("--llm-fail"));
        assert!(parse_rate("--llm-fail", "often")
            .unwrap_err()
            .contains("not a number"));
        assert_eq!(
            parse_status("--llm-error", "529"),
            Ok(FailStatus::Overloaded)
        );
        assert!(parse_status("--llm-error", "503")
            .unwrap_err()
            .contains("--llm-error"));
        assert_eq!(
            parse_duration("--db-latency", "10s"),
            Ok(Duration::from_secs(10))
        );
        assert!(parse_duration("--db-latency", "10")
            .unwrap_err()
            .contains("--db-latency"));
        assert!(parse_duration("--db-latency", "0s").is_err());
        assert_eq!(Target::parse("--on", "redis"), Ok(Target::Redis));
        assert!(Target::parse("--on", "kafka").unwrap_err().contains("--on"));
    }

    #[test]
    fn faults_describe_themselves() {
        let f = Fault::LlmFail {
            rate: 1.0,
            status: FailStatus::Overloaded,
        };
        assert_eq!(f.to_string(), "llm-fail 1 (529)");
        assert_eq!(
            Fault::Latency(Target::Db, Duration::from_secs(10)).to_string(),
            "db-latency 10s"
        );
        assert_eq!(Fault::Down(Target::Redis).to_string(), "redis-down");
    }
}
