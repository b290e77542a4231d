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

pub(crate) mod fault;
mod serve;

use std::time::Duration;

use serde_json::{json, Value};

use super::api;
use super::responder::Answer;

pub use fault::{StreamFault, StreamFaultError};
pub(crate) use serve::{respond, wanted};

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
