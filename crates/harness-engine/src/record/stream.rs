//! Streams as the collector keeps them: one [`StreamSample`] a streamed transaction, and
//! [`StreamStats`], the mergeable histograms and counts of a view of them (the run, a
//! transaction, a second). The definitions are `results::STREAM_METHOD`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{HistogramError, Latency};
use crate::results::{StreamEnd, StreamPoint, StreamSummary};

/// What the harness saw of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSample {
    /// From the intended send time to the first token event; `None` when none came.
    pub ttft: Option<Duration>,
    /// Each gap between consecutive token events.
    pub gaps: Vec<Duration>,
    /// Token events received.
    pub tokens: u64,
    /// How it ended.
    pub end: StreamEnd,
    /// From the intended send time to its last event.
    pub e2e: Duration,
}

impl StreamSample {
    /// The mean gap after the first token; `None` for fewer than two tokens.
    pub fn tpot(&self) -> Option<Duration> {
        let n = self.gaps.len() as u32;
        (n > 0).then(|| self.gaps.iter().sum::<Duration>() / n)
    }

    /// The longest gap after the first token (zero for fewer than two tokens).
    pub fn max_gap(&self) -> Duration {
        self.gaps.iter().copied().max().unwrap_or_default()
    }
}

/// The streams of one view: histograms in µs, tokens, and ends.
#[derive(Debug, Clone, Default)]
pub struct StreamStats {
    /// Time to first token.
    pub ttft: Latency,
    /// Every inter-token gap.
    pub itl: Latency,
    /// One mean gap a stream.
    pub tpot: Latency,
    /// Streams end to end.
    pub e2e: Latency,
    /// Tokens received.
    pub tokens: u64,
    /// How the streams ended.
    pub ends: BTreeMap<StreamEnd, u64>,
}

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

impl StreamStats {
    /// Streams counted.
    pub fn streams(&self) -> u64 {
        self.ends.values().sum()
    }

    /// Adds one stream.
    pub fn add(&mut self, s: &StreamSample) {
        if let Some(t) = s.ttft {
            self.ttft.record(us(t));
        }
        for g in &s.gaps {
            self.itl.record(us(*g));
        }
        if let Some(t) = s.tpot() {
            self.tpot.record(us(t));
        }
        self.e2e.record(us(s.e2e));
        self.tokens += s.tokens;
        *self.ends.entry(s.end).or_default() += 1;
    }

    /// Adds `other`'s streams: histograms merge exactly.
    pub fn merge(&mut self, other: &StreamStats) {
        self.ttft.merge(&other.ttft);
        self.itl.merge(&other.itl);
        self.tpot.merge(&other.tpot);
        self.e2e.merge(&other.e2e);
        self.tokens += other.tokens;
        for (end, n) in &other.ends {
            *self.ends.entry(*end).or_default() += n;
        }
    }

    /// The results file's view, over a window of `seconds`.
    pub fn summary(&self, seconds: f64) -> StreamSummary {
        StreamSummary {
            streams: self.streams(),
            ttft: self.ttft.summary(),
            itl: self.itl.summary(),
            tpot: self.tpot.summary(),
            e2e: self.e2e.summary(),
            tokens: self.tokens,
            output_tokens_per_s: if seconds > 0.0 {
                self.tokens as f64 / seconds
            } else {
                0.0
            },
            ends: self.ends.clone(),
        }
    }

    /// A second of the timeline.
    pub fn to_point(&self) -> StreamPoint {
        StreamPoint {
            streams: self.streams(),
            tokens: self.tokens,
            ends: self.ends.clone(),
            ttft_p50_us: self.ttft.percentile_us(50.0),
            ttft_p95_us: self.ttft.percentile_us(95.0),
            itl_p99_us: self.itl.percentile_us(99.0),
            ttft_hdr: self.ttft.encode(),
            itl_hdr: self.itl.encode(),
            tpot_hdr: self.tpot.encode(),
            e2e_hdr: self.e2e.encode(),
        }
    }

    /// A stored second back.
    pub fn from_point(p: &StreamPoint) -> Result<Self, HistogramError> {
        Ok(StreamStats {
            ttft: Latency::decode(&p.ttft_hdr)?,
            itl: Latency::decode(&p.itl_hdr)?,
            tpot: Latency::decode(&p.tpot_hdr)?,
            e2e: Latency::decode(&p.e2e_hdr)?,
            tokens: p.tokens,
            ends: p.ends.clone(),
        })
    }

    /// A stored view back (a results file's overall or per-transaction streams).
    pub fn from_summary(s: &StreamSummary) -> Result<Self, HistogramError> {
        Ok(StreamStats {
            ttft: Latency::decode(&s.ttft.hdr)?,
            itl: Latency::decode(&s.itl.hdr)?,
            tpot: Latency::decode(&s.tpot.hdr)?,
            e2e: Latency::decode(&s.e2e.hdr)?,
            tokens: s.tokens,
            ends: s.ends.clone(),
        })
    }
}

impl super::Recorded {
    /// The results file's streams, over a scored window of `seconds`; `None` when
    /// nothing streamed.
    pub fn stream_results(&self, seconds: f64) -> Option<crate::results::StreamResults> {
        (!self.streams.is_empty()).then(|| crate::results::StreamResults {
            overall: self.stream.summary(seconds),
            transactions: self
                .streams
                .iter()
                .map(|(name, s)| (name.clone(), s.summary(seconds)))
                .collect(),
            window_s: seconds,
            method: crate::results::STREAM_METHOD.to_owned(),
        })
    }

    /// The results file's goodput; `None` when no objective was given.
    pub fn goodput(&self) -> Option<crate::results::Goodput> {
        let slo = self.slo?;
        Some(crate::results::Goodput {
            slo: slo.to_string(),
            requests: self.totals.requests,
            met: self.totals.slo_met.unwrap_or(0),
            share: self.totals.goodput().unwrap_or(0.0),
            method: crate::results::GOODPUT_METHOD.to_owned(),
        })
    }
}
