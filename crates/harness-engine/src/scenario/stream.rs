//! `stream = …` on a transaction: its answer is Server-Sent Events, read as they arrive
//! and timed token by token. `stream = true` reads the contract's events (`token`,
//! `done`, `error`); a table names other ones, so that the harness can read any
//! service's stream, the LLM API's own (`content_block_delta`, `message_stop`) among
//! them.

use std::time::Duration;

use serde::Deserialize;

use crate::units::serde_duration;

/// How a transaction's stream is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// The event that carries one token [default: `token`].
    #[serde(default = "default_token")]
    pub token: String,
    /// The event that ends the stream as it should end; its data is read as the
    /// non-streaming answer's body is [default: `done`].
    #[serde(default = "default_done")]
    pub done: String,
    /// The event that ends the stream with a failure [default: `error`].
    #[serde(default = "default_error")]
    pub error: String,
    /// A stream with no event for this long is stalled: the harness stops reading it
    /// and counts it as such [default: 10s].
    #[serde(
        default = "default_stall_after",
        deserialize_with = "serde_duration::required"
    )]
    pub stall_after: Duration,
}

impl Default for StreamSpec {
    fn default() -> Self {
        StreamSpec {
            token: default_token(),
            done: default_done(),
            error: default_error(),
            stall_after: default_stall_after(),
        }
    }
}

fn default_token() -> String {
    "token".into()
}
fn default_done() -> String {
    "done".into()
}
fn default_error() -> String {
    "error".into()
}
fn default_stall_after() -> Duration {
    Duration::from_secs(10)
}

/// `stream = true | false | { … }`, as written.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    On(bool),
    Spec(StreamSpec),
}

/// Reads `stream = …`: `true` is the contract's events, `false` no stream.
pub(super) fn from_written<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<StreamSpec>, D::Error> {
    Ok(match Option::<Written>::deserialize(d)? {
        None | Some(Written::On(false)) => None,
        Some(Written::On(true)) => Some(StreamSpec::default()),
        Some(Written::Spec(s)) => Some(s),
    })
}
