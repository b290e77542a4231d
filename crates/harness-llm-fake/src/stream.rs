//! Streamed answers: the Anthropic event sequence for one answer, each event with the
//! time it is due, and the stream faults that bend it.
//!
//! `plan` is pure, so the sequence and its timing are tested without a socket; `serve`
//! paces a plan onto a response body.
//!
//! A stream's events, as the real API sends them:
//! `message_start`, `content_block_start`, `ping`, one `content_block_delta` a token (the
//! first after the prefill, each further one a decode later), `content_block_stop`,
//! `message_delta` (cumulative `usage`), `message_stop`.

mod serve;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use harness_support::units::duration as parse_duration;
use serde_json::{json, Value};

use super::api;
use super::responder::Answer;

pub(crate) use serve::{respond, wanted};

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

/// One step of a planned stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An SSE event: its `event:` name and its `data:` JSON.
    Event {
        /// The event type.
        name: &'static str,
        /// The event's data.
        data: Value,
    },
    /// The connection closes here, before the stream's end.
    Cut,
}

/// A step and when it is due, from the moment the request arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// When the step is due.
    pub at: Duration,
    /// The step.
    pub step: Step,
}

fn event(at: Duration, name: &'static str, data: Value) -> Planned {
    Planned {
        at,
        step: Step::Event { name, data },
    }
}

/// The events of one streamed answer under `fault`, each with its due time: what the
/// fake sends and what its tests check.
pub(crate) fn plan(answer: &Answer, fault: StreamFault) -> Vec<Planned> {
    let words: Vec<&str> = answer.text.split(' ').collect();
    let decode = match fault {
        StreamFault::SlowDecode { tokens_per_s } => Duration::from_secs(1) / tokens_per_s,
        _ => answer.decode,
    };
    let zero = Duration::ZERO;
    let req = &answer.request;
    let mut out = vec![
        event(
            zero,
            "message_start",
            json!({"type": "message_start", "message": {
                "id": answer.id, "type": "message", "role": "assistant", "content": [],
                "model": req.model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": req.input_tokens, "output_tokens": 1}}}),
        ),
        event(
            zero,
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}),
        ),
        event(zero, "ping", json!({"type": "ping"})),
    ];
    let mut at = answer.prefill;
    for (i, word) in words.iter().enumerate() {
        let sent = i as u64;
        match fault {
            StreamFault::Error { after } if sent == after => {
                out.push(event(
                    at,
                    "error",
                    api::error_body("overloaded_error", "Overloaded"),
                ));
                return out;
            }
            StreamFault::Truncate { after } if sent == after => {
                out.push(Planned {
                    at,
                    step: Step::Cut,
                });
                return out;
            }
            StreamFault::Stall { after, pause } if sent == after => at += pause,
            _ => {}
        }
        let text = if i == 0 {
            (*word).to_owned()
        } else {
            format!(" {word}")
        };
        out.push(event(
            at,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": text}}),
        ));
        if i + 1 < words.len() {
            at += decode;
        }
    }
    let stop_reason = if answer.tokens >= req.max_tokens {
        "max_tokens"
    } else {
        "end_turn"
    };
    out.push(event(
        at,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    out.push(event(
        at,
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": answer.tokens}}),
    ));
    out.push(event(at, "message_stop", json!({"type": "message_stop"})));
    out
}

#[cfg(test)]
mod tests;
