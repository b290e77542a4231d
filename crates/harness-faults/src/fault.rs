//! Faults as values, and the one table of fault kinds. A fault is written the same way
//! everywhere it is written as text (a scenario's `[chaos] faults`, the matrix, the
//! expectations' `faults`): the flag's name without dashes, then its value, e.g.
//! `llm-fail 1.0`, `llm-fail 1.0 529`, `db-latency 10s`, `redis-down`,
//! `bandwidth 8 on db`, `slicer on redis`. [`Fault`]'s `FromStr` is the only parser.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use harness_llm_fake::{FailStatus, StatusError, StreamFault, StreamFaultError};
use harness_support::units::{self, ValueError};

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

/// A word that is not `db`, `redis` or `llm`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not db, redis or llm")]
pub struct TargetError(pub String);

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(v: &str) -> Result<Self, TargetError> {
        match v.trim() {
            "db" | "postgres" => Ok(Target::Db),
            "redis" => Ok(Target::Redis),
            "llm" => Ok(Target::Llm),
            other => Err(TargetError(other.to_owned())),
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
        /// 400, 429, 500 or 529.
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
    /// The LLM fake's streamed answers (`"stream": true`) break as this says: an error
    /// event, a stall, a cut, or slow decoding. Whole answers are untouched.
    LlmStream(StreamFault),
}

/// One row of the table of fault kinds.
#[derive(Debug, Clone, Copy)]
pub struct KindRow {
    /// The kind's name, as flags (with dashes), specs and `degradation.toml` write it.
    pub name: &'static str,
    /// What follows the name in a spec, for error texts.
    pub takes: &'static str,
    /// The fault `harness chaos --matrix` runs for this kind, if it runs one.
    pub matrix: Option<&'static str>,
}

/// Every fault kind: the names specs and expectations may use, what each takes, and the
/// matrix. Each fault of seed 002 §5.2 and the fault layer's other toxics.
pub const KINDS: &[KindRow] = &[
    row("llm-fail", "RATE [429|500|529]", Some("llm-fail 1.0")),
    row("llm-latency", "DURATION", Some("llm-latency 30s")),
    row("llm-timeout", "", Some("llm-timeout")),
    row("db-latency", "DURATION", Some("db-latency 10s")),
    row("db-down", "", Some("db-down")),
    row("redis-down", "", Some("redis-down")),
    row("redis-latency", "DURATION", Some("redis-latency 1s")),
    row("llm-down", "", None),
    row(
        "bandwidth",
        "KBPS on db|redis|llm",
        Some("bandwidth 4 on db"),
    ),
    row("slicer", "on db|redis|llm", Some("slicer on db")),
    row(
        "llm-stream",
        "error:N|stall:N:DURATION|truncate:N|slow-decode:TOKENS_PER_S",
        None,
    ),
];

const fn row(name: &'static str, takes: &'static str, matrix: Option<&'static str>) -> KindRow {
    KindRow {
        name,
        takes,
        matrix,
    }
}

/// The faults the matrix runs, one at a time, in order.
pub fn matrix() -> impl Iterator<Item = Fault> {
    KINDS
        .iter()
        .filter_map(|k| k.matrix)
        .filter_map(|spec| spec.parse().ok())
}

/// The names of every kind, for error texts.
pub fn kind_names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// A fault spec that does not parse; each names the kind it was parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// The first word names no fault kind.
    #[error("'{0}' is not a fault ({names})", names = kind_names())]
    Unknown(String),
    /// The kind needs a value or target that is missing or misplaced.
    #[error("write '{spec}'", spec = format!("{kind} {takes}").trim_end().to_owned())]
    Shape {
        /// The kind.
        kind: &'static str,
        /// What it takes.
        takes: &'static str,
    },
    /// The value does not parse.
    #[error("{kind}: {problem}")]
    Value {
        /// The kind.
        kind: &'static str,
        /// What is wrong with the value.
        problem: ValueError,
    },
    /// The LLM status does not parse.
    #[error("{kind}: {problem}")]
    Status {
        /// The kind.
        kind: &'static str,
        /// What is wrong with the status.
        problem: StatusError,
    },
    /// The stream fault does not parse.
    #[error("{kind}: {problem}")]
    Stream {
        /// The kind.
        kind: &'static str,
        /// What is wrong with it.
        problem: StreamFaultError,
    },
    /// The target after `on` is unknown.
    #[error("{kind} on: {problem}")]
    Target {
        /// The kind.
        kind: &'static str,
        /// What is wrong with the target.
        problem: TargetError,
    },
}

impl FromStr for Fault {
    type Err = FaultParseError;

    /// ```
    /// use harness_faults::{Fault, Target};
    /// let f: Fault = "bandwidth 8 on redis".parse().expect("a fault");
    /// assert_eq!(f, Fault::Bandwidth(Target::Redis, 8));
    /// assert!("flood".parse::<Fault>().is_err());
    /// ```
    fn from_str(spec: &str) -> Result<Fault, FaultParseError> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let first = words.first().copied().unwrap_or("");
        let Some(k) = KINDS.iter().find(|k| k.name == first) else {
            return Err(FaultParseError::Unknown(first.to_owned()));
        };
        let kind = k.name;
        let shape = || FaultParseError::Shape {
            kind,
            takes: k.takes,
        };
        let value = |i: usize| words.get(i).copied().ok_or_else(shape);
        let on = |i: usize| match (words.get(i), words.get(i + 1), words.len() == i + 2) {
            (Some(&"on"), Some(t), true) => t
                .parse::<Target>()
                .map_err(|problem| FaultParseError::Target { kind, problem }),
            _ => Err(shape()),
        };
        let only = |n: usize| {
            if words.len() == n {
                Ok(())
            } else {
                Err(shape())
            }
        };
        let fault = match kind {
            "llm-fail" => {
                let rate = val(kind, units::rate(value(1)?))?;
                let status = match words.get(2) {
                    Some(s) => s
                        .parse()
                        .map_err(|problem| FaultParseError::Status { kind, problem })?,
                    None => FailStatus::ApiError,
                };
                if words.len() > 3 {
                    return Err(shape());
                }
                Fault::LlmFail { rate, status }
            }
            "llm-latency" => {
                only(2)?;
                Fault::LlmLatency(val(kind, units::duration(value(1)?))?)
            }
            "llm-timeout" => only(1).map(|()| Fault::LlmTimeout)?,
            "db-latency" | "redis-latency" => {
                only(2)?;
                let t = if kind == "db-latency" {
                    Target::Db
                } else {
                    Target::Redis
                };
                Fault::Latency(t, val(kind, units::duration(value(1)?))?)
            }
            "db-down" => only(1).map(|()| Fault::Down(Target::Db))?,
            "redis-down" => only(1).map(|()| Fault::Down(Target::Redis))?,
            "llm-down" => only(1).map(|()| Fault::Down(Target::Llm))?,
            "llm-stream" => {
                only(2)?;
                Fault::LlmStream(
                    value(1)?
                        .parse()
                        .map_err(|problem| FaultParseError::Stream { kind, problem })?,
                )
            }
            "bandwidth" => {
                let kbps = val(kind, units::kbps(value(1)?))?;
                Fault::Bandwidth(on(2)?, kbps)
            }
            _ => Fault::Slicer(on(1)?),
        };
        Ok(fault)
    }
}

fn val<T>(kind: &'static str, r: Result<T, ValueError>) -> Result<T, FaultParseError> {
    r.map_err(|source| FaultParseError::Value {
        kind,
        problem: source,
    })
}

/// The deadlines past which a slowed dependency has failed for the SUT: its LLM call
/// timeout, the health check's database deadline, its Redis command deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The LLM call timeout.
    pub llm: Duration,
    /// The health check's deadline for the database.
    pub db: Duration,
    /// The Redis command deadline.
    pub redis: Duration,
}

impl Fault {
    /// Whether the fault makes its dependency fail outright for a SUT with these
    /// deadlines, rather than merely slow it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use harness_faults::{Deadlines, Fault};
    /// let d = Deadlines {
    ///     llm: Duration::from_secs(30),
    ///     db: Duration::from_secs(1),
    ///     redis: Duration::from_millis(500),
    /// };
    /// assert!(Fault::LlmLatency(Duration::from_secs(30)).is_failing(&d));
    /// assert!(!Fault::LlmLatency(Duration::from_secs(10)).is_failing(&d));
    /// ```
    pub fn is_failing(&self, d: &Deadlines) -> bool {
        match self {
            Fault::LlmFail { rate, .. } => *rate >= 1.0,
            Fault::LlmLatency(t) | Fault::Latency(Target::Llm, t) => *t >= d.llm,
            Fault::LlmTimeout | Fault::Down(_) => true,
            Fault::Latency(Target::Db, t) => *t >= d.db,
            Fault::Latency(Target::Redis, t) => *t >= d.redis,
            Fault::Bandwidth(..) | Fault::Slicer(_) => false,
            Fault::LlmStream(s) => match s {
                StreamFault::Error { after: 0 } | StreamFault::Truncate { after: 0 } => true,
                StreamFault::Stall { pause, .. } => *pause >= d.llm,
                _ => false,
            },
        }
    }

    /// The fault's kind, as [`KINDS`] names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::LlmFail { .. } => "llm-fail",
            Fault::LlmLatency(_) | Fault::Latency(Target::Llm, _) => "llm-latency",
            Fault::LlmTimeout => "llm-timeout",
            Fault::Latency(Target::Db, _) => "db-latency",
            Fault::Latency(Target::Redis, _) => "redis-latency",
            Fault::Down(Target::Db) => "db-down",
            Fault::Down(Target::Redis) => "redis-down",
            Fault::Down(Target::Llm) => "llm-down",
            Fault::Bandwidth(..) => "bandwidth",
            Fault::Slicer(_) => "slicer",
            Fault::LlmStream(_) => "llm-stream",
        }
    }
}

impl Fault {
    /// The fault written in the syntax its parser reads, so a recorded fault can be read
    /// back exactly (a shard's record, read by `harness merge`).
    ///
    /// ```
    /// use harness_faults::Fault;
    /// let f: Fault = "llm-fail 0.5 529".parse().expect("a fault");
    /// assert_eq!(f.spec().parse::<Fault>(), Ok(f));
    /// ```
    pub fn spec(&self) -> String {
        // Words are split on spaces, so a duration is written without them.
        let d = |d: &Duration| humantime::format_duration(*d).to_string().replace(' ', "");
        match self {
            Fault::LlmFail { rate, status } => format!("llm-fail {rate} {}", status.code()),
            Fault::LlmLatency(t) | Fault::Latency(Target::Llm, t) => {
                format!("llm-latency {}", d(t))
            }
            Fault::Latency(t, l) => format!("{t}-latency {}", d(l)),
            Fault::Bandwidth(t, k) => format!("bandwidth {k} on {t}"),
            Fault::LlmTimeout | Fault::Down(_) | Fault::Slicer(_) | Fault::LlmStream(_) => {
                self.to_string()
            }
        }
    }
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
            Fault::LlmStream(s) => write!(f, "llm-stream {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(spec: &str) -> String {
        spec.parse::<Fault>().unwrap_err().to_string()
    }

    #[test]
    fn specs_parse_and_name_what_is_wrong() {
        assert_eq!(
            "llm-fail 1.0 529".parse(),
            Ok(Fault::LlmFail {
                rate: 1.0,
                status: FailStatus::Overloaded
            })
        );
        assert_eq!(
            "bandwidth 8 on redis".parse(),
            Ok(Fault::Bandwidth(Target::Redis, 8))
        );
        assert_eq!("slicer on llm".parse(), Ok(Fault::Slicer(Target::Llm)));
        assert_eq!(err("llm-fail 2"), "llm-fail: 2 is outside 0..1");
        assert_eq!(err("llm-fail 1 503").split(':').next(), Some("llm-fail"));
        assert_eq!(err("db-latency"), "write 'db-latency DURATION'");
        assert_eq!(
            err("db-latency 0s"),
            "db-latency: '0s' must be greater than 0"
        );
        assert_eq!(err("bandwidth 8"), "write 'bandwidth KBPS on db|redis|llm'");
        assert_eq!(
            err("bandwidth 8 on kafka"),
            "bandwidth on: 'kafka' is not db, redis or llm"
        );
        assert_eq!(err("db-down now"), "write 'db-down'");
        assert!(err("flood").starts_with("'flood' is not a fault (llm-fail, "));
        assert_eq!(
            "llm-stream truncate:5".parse(),
            Ok(Fault::LlmStream(StreamFault::Truncate { after: 5 }))
        );
        assert!(
            err("llm-stream stall:2").starts_with("llm-stream: 'stall:2' is not a stream fault")
        );
        assert!(err("llm-stream").starts_with("write 'llm-stream error:N|"));
    }

    #[test]
    fn every_fault_reads_back_from_its_spec() {
        let odd = [
            Fault::LlmFail {
                rate: 0.25,
                status: FailStatus::RateLimited,
            },
            Fault::LlmLatency(Duration::from_millis(1500)),
            Fault::Latency(Target::Db, Duration::from_micros(250_500)),
            Fault::Bandwidth(Target::Llm, 8),
            Fault::LlmStream(StreamFault::Stall {
                after: 3,
                pause: Duration::from_millis(2500),
            }),
            Fault::LlmStream(StreamFault::Error { after: 0 }),
        ];
        for f in matrix().chain(odd) {
            assert_eq!(f.spec().parse::<Fault>().as_ref(), Ok(&f), "{}", f.spec());
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_name_and_the_matrix_parses() {
        let all: Vec<Fault> = matrix().collect();
        let specs: Vec<&str> = KINDS.iter().filter_map(|k| k.matrix).collect();
        assert_eq!(all.len(), specs.len(), "a matrix spec does not parse");
        for (f, spec) in all.iter().zip(specs) {
            assert!(spec.starts_with(f.kind()), "{spec} vs {}", f.kind());
            assert!(KINDS.iter().any(|k| k.name == f.kind()));
        }
        let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
    }
}
