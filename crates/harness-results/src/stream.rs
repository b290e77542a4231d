//! Streamed answers in results.json: time to first token, inter-token latency, time per
//! output token and end-to-end time as HDR histograms, how each stream ended, and
//! goodput against `--slo`. The definitions are in [`STREAM_METHOD`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::HistogramSummary;

/// How the stream figures were obtained, as results.json and the reports state it.
pub const STREAM_METHOD: &str = "TTFT: from the request's intended send time (the \
    send itself in the closed model, the arrival schedule's time in the open model) to \
    the arrival of the chunk that completed the first token event. ITL: every gap \
    between the arrivals of consecutive token events of a stream, the first token \
    excluded (vLLM's ITL; not llmperf's, which includes TTFT). TPOT: per stream, (last \
    token − first token) ÷ (tokens − 1), the mean ITL of that stream; streams of one \
    token have none. E2E: intended send time to the stream's last event. Output tokens a \
    second: the tokens of the scored streams over the scored window. Only streams \
    answered 2xx are read; a stream that ended in an error event, was cut before its \
    final event, or sent no event for `stall_after` is counted by that end, and as an \
    error.";

/// How a request was judged against `--slo`, as results.json states it.
pub const GOODPUT_METHOD: &str = "A request meets the objectives when it is not an     error and each objective given holds for it: ttft (its time to first token), itl     (its longest inter-token gap, so that one stall fails it), tpot (its mean gap) and     e2e (its end-to-end time, from the intended send time). A request that does not     stream is judged on e2e alone. Goodput is the share that met them all.";

/// How one stream ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StreamEnd {
    /// Its final event came.
    Done,
    /// It ended with an error event.
    Error,
    /// The connection closed, or the body broke, before its final event.
    Truncated,
    /// No event came for `stall_after`; the harness stopped reading it.
    Stalled,
}

impl StreamEnd {
    /// Every end, in the order reports list them.
    pub const ALL: [StreamEnd; 4] = [
        StreamEnd::Done,
        StreamEnd::Error,
        StreamEnd::Truncated,
        StreamEnd::Stalled,
    ];

    /// The word results.json and the status mix use: `done`, `error`, `truncated`,
    /// `stalled`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamEnd::Done => "done",
            StreamEnd::Error => "error",
            StreamEnd::Truncated => "truncated",
            StreamEnd::Stalled => "stalled",
        }
    }

    /// The status label of a stream that ended this way, in the status mix.
    pub fn status_label(self) -> &'static str {
        match self {
            StreamEnd::Done => "200",
            StreamEnd::Error => "stream-error",
            StreamEnd::Truncated => "stream-truncated",
            StreamEnd::Stalled => "stream-stalled",
        }
    }
}

/// The streams of one view (the run, a transaction, a phase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamSummary {
    /// Streams read (answered 2xx).
    pub streams: u64,
    /// Time to first token, µs.
    pub ttft: HistogramSummary,
    /// Inter-token latency: every gap after the first token, µs.
    pub itl: HistogramSummary,
    /// Time per output token, one value a stream, µs.
    pub tpot: HistogramSummary,
    /// End to end, streams only, µs.
    pub e2e: HistogramSummary,
    /// Tokens received.
    pub tokens: u64,
    /// Tokens a second over the view's window.
    pub output_tokens_per_s: f64,
    /// How the streams ended, by [`StreamEnd::as_str`].
    pub ends: BTreeMap<StreamEnd, u64>,
}

/// Streams in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamResults {
    /// All streamed transactions, over the scored window.
    pub overall: StreamSummary,
    /// Per streamed transaction.
    pub transactions: BTreeMap<String, StreamSummary>,
    /// The scored window the token rates are over, seconds.
    pub window_s: f64,
    /// How the figures were obtained ([`STREAM_METHOD`]).
    pub method: String,
}

/// The share of requests that met every service-level objective of `--slo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Goodput {
    /// The objectives, as given (`ttft=500ms,itl=50ms,e2e=5s`).
    pub slo: String,
    /// Scored requests.
    pub requests: u64,
    /// Of those, requests that met every objective.
    pub met: u64,
    /// met / requests.
    pub share: f64,
    /// How a request was judged.
    pub method: String,
}

/// One second's streams in the timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamPoint {
    /// Streams read that started in this second.
    pub streams: u64,
    /// Their tokens.
    pub tokens: u64,
    /// How they ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ends: BTreeMap<StreamEnd, u64>,
    /// Median TTFT, µs.
    pub ttft_p50_us: u64,
    /// 95th percentile TTFT, µs.
    pub ttft_p95_us: u64,
    /// 99th percentile ITL, µs.
    pub itl_p99_us: u64,
    /// The TTFT histogram, HDR V2 + DEFLATE, base64.
    pub ttft_hdr: String,
    /// The ITL histogram, HDR V2 + DEFLATE, base64.
    pub itl_hdr: String,
    /// The TPOT histogram, HDR V2 + DEFLATE, base64.
    pub tpot_hdr: String,
    /// The streams' end-to-end histogram, HDR V2 + DEFLATE, base64.
    pub e2e_hdr: String,
}
