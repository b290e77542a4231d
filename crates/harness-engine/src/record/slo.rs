//! `--slo ttft=500ms,itl=50ms,e2e=5s`: the service-level objectives goodput counts
//! against. How a request is judged is `results::GOODPUT_METHOD`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::Sample;
use crate::units::{duration, ValueError};

/// The objectives, each optional; at least one is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slo {
    /// Time to first token, at most.
    pub ttft: Option<Duration>,
    /// Every inter-token gap, at most.
    pub itl: Option<Duration>,
    /// The mean inter-token gap, at most.
    pub tpot: Option<Duration>,
    /// End to end, at most.
    pub e2e: Option<Duration>,
}

/// An `--slo` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SloError {
    /// A part that is not `NAME=DURATION`, or a name not known.
    #[error("'{0}' is not an objective: write ttft=, itl=, tpot= or e2e= with a duration, e.g. ttft=500ms,e2e=5s")]
    Part(String),
    /// The duration of a part.
    #[error("{name}: {source}")]
    Value {
        /// The objective.
        name: String,
        /// What is wrong with its value.
        source: ValueError,
    },
    /// The same objective twice.
    #[error("{0} is given twice")]
    Twice(String),
}

impl FromStr for Slo {
    type Err = SloError;
    fn from_str(text: &str) -> Result<Self, SloError> {
        let mut slo = Slo::default();
        for part in text.split(',').map(str::trim) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| SloError::Part(part.to_owned()))?;
            let slot = match name.trim() {
                "ttft" => &mut slo.ttft,
                "itl" => &mut slo.itl,
                "tpot" => &mut slo.tpot,
                "e2e" => &mut slo.e2e,
                _ => return Err(SloError::Part(part.to_owned())),
            };
            if slot.is_some() {
                return Err(SloError::Twice(name.trim().to_owned()));
            }
            *slot = Some(duration(value).map_err(|source| SloError::Value {
                name: name.trim().to_owned(),
                source,
            })?);
        }
        Ok(slo)
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("ttft", self.ttft),
            ("itl", self.itl),
            ("tpot", self.tpot),
            ("e2e", self.e2e),
        ]
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| format!("{n}={}", written(d))))
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// A duration as `--slo` takes it back: whole milliseconds, or microseconds.
fn written(d: Duration) -> String {
    if d.as_micros() % 1000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_micros())
    }
}

impl Slo {
    /// Whether `s` met every objective (see `results::GOODPUT_METHOD`).
    pub fn met(&self, s: &Sample) -> bool {
        if s.is_error() || self.e2e.is_some_and(|l| s.latency > l) {
            return false;
        }
        let Some(stream) = &s.stream else {
            return true;
        };
        let ttft_ok = match (self.ttft, stream.ttft) {
            (Some(l), Some(t)) => t <= l,
            (Some(_), None) => false,
            (None, _) => true,
        };
        ttft_ok
            && self.itl.is_none_or(|l| stream.max_gap() <= l)
            && self
                .tpot
                .is_none_or(|l| stream.tpot().is_none_or(|t| t <= l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::StreamSample;
    use crate::results::StreamEnd;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_reads_back_and_names_what_is_wrong() {
        let slo: Slo = "ttft=500ms, itl=50ms,e2e=5s".parse().expect("an slo");
        assert_eq!(
            (slo.ttft, slo.itl, slo.tpot, slo.e2e),
            (Some(ms(500)), Some(ms(50)), None, Some(ms(5000)))
        );
        assert_eq!(slo.to_string(), "ttft=500ms,itl=50ms,e2e=5000ms");
        let err = |t: &str| t.parse::<Slo>().expect_err(t).to_string();
        assert!(err("ttfb=1s").contains("'ttfb=1s'"));
        assert!(err("ttft").contains("'ttft'"));
        assert!(err("ttft=fast").starts_with("ttft: 'fast'"));
        assert_eq!(err("e2e=1s,e2e=2s"), "e2e is given twice");
    }

    #[test]
    fn a_stream_meets_them_only_when_every_one_holds() {
        let slo: Slo = "ttft=100ms,itl=20ms,e2e=1s".parse().expect("an slo");
        let sample = |ttft: u64, gaps: &[u64], e2e: u64, status: u16| Sample {
            status: Some(status),
            latency: ms(e2e),
            stream: Some(StreamSample {
                ttft: Some(ms(ttft)),
                gaps: gaps.iter().map(|g| ms(*g)).collect(),
                tokens: gaps.len() as u64 + 1,
                end: StreamEnd::Done,
                e2e: ms(e2e),
            }),
            ..Sample::default()
        };
        assert!(slo.met(&sample(100, &[10, 20], 400, 200)));
        assert!(!slo.met(&sample(101, &[10, 20], 400, 200)), "ttft");
        assert!(!slo.met(&sample(50, &[10, 21], 400, 200)), "one long gap");
        assert!(!slo.met(&sample(50, &[10], 1001, 200)), "e2e");
        assert!(!slo.met(&sample(50, &[10], 400, 503)), "an error");
        let whole = Sample {
            status: Some(200),
            latency: ms(900),
            ..Sample::default()
        };
        assert!(slo.met(&whole), "a whole answer is judged on e2e alone");
    }
}
