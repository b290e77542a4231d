//! The stream faults: what goes wrong with the fake's streamed answers, and how a user
//! writes one (`error:3`, `stall:3:2s`, `truncate:3`, `slow-decode:20`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use harness_support::units::duration as parse_duration;

/// What goes wrong with the following streamed answers; switched while the fake runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamFault {
    /// Streams run to `message_stop`.
    #[default]
    None,
    /// After `after` tokens, an `event: error` with `overloaded_error`, and the stream ends.
    Error {
        /// Tokens sent before the error.
        after: u64,
    },
    /// After `after` tokens, no event for `pause`; then the stream goes on.
    Stall {
        /// Tokens sent before the stall.
        after: u64,
        /// How long nothing is sent.
        pause: Duration,
    },
    /// After `after` tokens the connection closes, before `message_stop`.
    Truncate {
        /// Tokens sent before the cut.
        after: u64,
    },
    /// Tokens come at this rate, whatever the profile's decode time.
    SlowDecode {
        /// Tokens a second.
        tokens_per_s: u32,
    },
}

/// A stream fault spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{spec}' is not a stream fault ({why}); give none, error:N, stall:N:DURATION, truncate:N or slow-decode:TOKENS_PER_S")]
pub struct StreamFaultError {
    /// The spec given.
    pub spec: String,
    /// What is wrong with it.
    pub why: String,
}

impl FromStr for StreamFault {
    type Err = StreamFaultError;
    fn from_str(spec: &str) -> Result<Self, StreamFaultError> {
        let bad = |why: String| StreamFaultError {
            spec: spec.to_owned(),
            why,
        };
        let count = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| bad(format!("'{v}' is not a token count")))
        };
        let parts: Vec<&str> = spec.trim().split(':').collect();
        match parts.as_slice() {
            ["none"] => Ok(StreamFault::None),
            ["error", n] => Ok(StreamFault::Error { after: count(n)? }),
            ["truncate", n] => Ok(StreamFault::Truncate { after: count(n)? }),
            ["stall", n, d] => Ok(StreamFault::Stall {
                after: count(n)?,
                pause: parse_duration(d).map_err(|e| bad(e.to_string()))?,
            }),
            ["slow-decode", r] => match r.parse::<u32>() {
                Ok(rate) if rate > 0 => Ok(StreamFault::SlowDecode { tokens_per_s: rate }),
                _ => Err(bad(format!("'{r}' is not a rate above 0"))),
            },
            _ => Err(bad("unknown kind or wrong number of fields".into())),
        }
    }
}

impl fmt::Display for StreamFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamFault::None => write!(f, "none"),
            StreamFault::Error { after } => write!(f, "error:{after}"),
            StreamFault::Truncate { after } => write!(f, "truncate:{after}"),
            StreamFault::Stall { after, pause } => {
                write!(f, "stall:{after}:{}ms", pause.as_millis())
            }
            StreamFault::SlowDecode { tokens_per_s } => write!(f, "slow-decode:{tokens_per_s}"),
        }
    }
}
