//! Recording: load workers send one [`Sample`] per transaction over a channel to a
//! single collector, which owns every histogram. No lock is shared across users, and
//! the run's recording ends when the last sender is dropped.

mod counts;
pub mod histogram;
mod merge;
mod omission;
mod slo;
mod stream;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::results::{SecondPoint, StreamEnd};

pub use counts::Counts;
pub use histogram::{Decode, HistogramError, Latency};
pub use omission::{Backfill, Omission};
pub use slo::{Slo, SloError};
pub use stream::{StreamSample, StreamStats};

/// Seed 002 §5.2: a template answer scores below this quality.
pub const QUALITY_GATE: f64 = 0.7;

/// One finished transaction, as a worker saw it.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// The scenario's transaction name.
    pub transaction: String,
    /// When it started, from the start of the load phase.
    pub at: Duration,
    /// End to end, including any polling.
    pub latency: Duration,
    /// The HTTP status of the first response; `None` for a transport error.
    pub status: Option<u16>,
    /// `Server-Timing` entries of the first response: operation and duration.
    pub operations: Vec<(String, Duration)>,
    /// The body's `fallback` field, when it has one.
    pub fallback: Option<String>,
    /// The body's `degraded` field, when it has one.
    pub degraded: Option<bool>,
    /// The body's `quality_score`, when it has one.
    pub quality_score: Option<f64>,
    /// The body's `sources`, when it has them.
    pub sources: Vec<String>,
    /// Open model: how long after its intended send time the request started.
    pub late: Duration,
    /// Still unanswered at the load phase's deadline, and cut there (an error).
    pub cut: bool,
    /// Open model: not sent, because the in-flight cap was reached (an error with no
    /// latency).
    pub dropped: bool,
    /// Its client gave up before the answer came (see `load::Abandon`): no latency,
    /// no error, counted apart.
    pub abandoned: bool,
    /// A streamed answer (a 2xx to a `stream` transaction): its tokens' timing and how
    /// it ended.
    pub stream: Option<StreamSample>,
}

/// A start this far behind the intended send time counts as late.
pub const LATE: Duration = Duration::from_millis(10);

impl Sample {
    /// 2xx and 3xx are successes; any other status, a transport error or a stream
    /// that did not reach its final event is an error.
    pub fn is_error(&self) -> bool {
        !matches!(self.status, Some(200..=399))
            || self
                .stream
                .as_ref()
                .is_some_and(|s| s.end != StreamEnd::Done)
    }

    /// A 2xx answered from the template: the graceful outcome when the LLM is gone.
    pub fn is_template_answer(&self) -> bool {
        !self.is_error()
            && self.fallback.as_deref() == Some("template")
            && self.quality_score.is_some_and(|q| q < QUALITY_GATE)
    }

    /// A 2xx that names `cache` among its sources.
    pub fn is_cache_sourced(&self) -> bool {
        !self.is_error() && self.sources.iter().any(|s| s == "cache")
    }

    /// The status as a label: the code; `dropped` or `timeout` (cut at the deadline)
    /// for a request the generator gave up on; `transport` for a connection failure.
    /// Built on the stack: the collector labels every sample.
    pub fn status_label(&self) -> StatusLabel {
        if self.abandoned {
            return StatusLabel::Word("abandoned");
        }
        if self.dropped {
            return StatusLabel::Word("dropped");
        }
        if self.cut {
            return StatusLabel::Word("timeout");
        }
        if let Some(s) = self.stream.as_ref().filter(|s| s.end != StreamEnd::Done) {
            return StatusLabel::Word(s.end.status_label());
        }
        match self.status {
            Some(code @ 100..=999) => StatusLabel::Code([
                b'0' + (code / 100) as u8,
                b'0' + (code / 10 % 10) as u8,
                b'0' + (code % 10) as u8,
            ]),
            Some(_) => StatusLabel::Word("invalid"),
            None => StatusLabel::Word("transport"),
        }
    }
}

/// What [`Sample::status_label`] returns: a three-digit code or a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusLabel {
    /// An HTTP status, as three ASCII digits.
    Code([u8; 3]),
    /// `abandoned`, `dropped`, `timeout`, `transport`, `invalid`, or how a stream that
    /// did not reach its final event ended (`stream-error`, …).
    Word(&'static str),
}

impl StatusLabel {
    /// The label as text.
    pub fn as_str(&self) -> &str {
        match self {
            // Always ASCII digits (see `status_label`).
            StatusLabel::Code(d) => std::str::from_utf8(d).unwrap_or("invalid"),
            StatusLabel::Word(w) => w,
        }
    }
}

/// Counters and a latency histogram for one second of the run.
#[derive(Debug, Clone, Default)]
pub struct Second {
    /// End-to-end latency of transactions that started in this second.
    pub latency: Latency,
    /// The transactions that started in this second.
    pub counts: Counts,
    /// The streams that started in this second, when any did (boxed: most runs have
    /// none, and a second is kept for every second of the run).
    pub stream: Option<Box<StreamStats>>,
}

impl Second {
    /// The results file's point for this second, second `t` of the load.
    pub fn to_point(&self, t: u64) -> SecondPoint {
        let c = &self.counts;
        SecondPoint {
            t,
            requests: c.requests,
            errors: c.errors,
            fallbacks: c.fallbacks,
            degraded: c.degraded,
            templated: c.templated,
            cache_sourced: c.cache_sourced,
            fallback_kinds: c.fallback_kinds.clone(),
            p50_us: self.latency.percentile_us(50.0),
            p95_us: self.latency.percentile_us(95.0),
            p99_us: self.latency.percentile_us(99.0),
            statuses: c.statuses.clone(),
            hdr: self.latency.encode(),
            stream: self.stream.as_ref().map(|s| s.to_point()),
            slo_met: c.slo_met,
        }
    }

    /// The second a results file's point stores, its histogram decoded.
    pub fn from_point(p: &SecondPoint) -> Result<Second, HistogramError> {
        Ok(Second {
            latency: Latency::decode(&p.hdr)?,
            counts: Counts::of_point(p),
            stream: match &p.stream {
                Some(s) => Some(Box::new(StreamStats::from_point(s)?)),
                None => None,
            },
        })
    }

    /// Adds `other`'s counts and latencies to this one.
    pub fn merge(&mut self, other: &Second) {
        self.latency.merge(&other.latency);
        self.counts.merge(&other.counts);
        if let Some(theirs) = &other.stream {
            self.stream.get_or_insert_default().merge(theirs);
        }
    }
}

/// The histogram for `key`, allocating the key only the first time it is seen.
fn histogram<'a>(map: &'a mut BTreeMap<String, Latency>, key: &str) -> &'a mut Latency {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), Latency::new());
    }
    // Inserted just above when missing.
    map.get_mut(key).expect("present")
}

/// `n / d`, or 0 when `d` is 0.
pub fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// How end-to-end latencies are corrected for coordinated omission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correction {
    /// Closed-model users that think this long on average between transactions: the
    /// sends a stall held back are added (see [`Omission`]).
    Schedule {
        /// The mean think time.
        think_mean: Duration,
    },
    /// Open-model load: latency is already taken from each request's intended send
    /// time, so nothing is held back and nothing is added.
    None,
}

/// Everything the collector built.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Per transaction, end to end, with the sends a stall held back (see [`Correction`]).
    pub transactions: BTreeMap<String, Latency>,
    /// All transactions together, corrected as `transactions` are.
    pub overall: Latency,
    /// All transactions together, as measured (no correction).
    pub overall_raw: Latency,
    /// Transactions that did not fail, as measured: goodput counts those within a
    /// per-request limit.
    pub succeeded: Latency,
    /// Per `Server-Timing` operation, as the service reported it.
    pub operations: BTreeMap<String, Latency>,
    /// Per second of the load phase.
    pub seconds: Vec<Second>,
    /// The scored transactions: after the warm-up, before `until`.
    pub totals: Counts,
    /// Samples that start before this are kept in `seconds` only, not scored.
    pub warmup: Duration,
    /// Samples that start at or after this are kept in `seconds` only (a chaos run
    /// scores its budgets over the baseline phase).
    pub until: Option<Duration>,
    /// Samples the coordinated-omission correction added to `transactions` and
    /// `overall` (never to `overall_raw`, the timeline or the operations).
    pub backfilled: u64,
    /// Open model: requests that started [`LATE`] or more after their intended time.
    pub late: u64,
    /// Open model: the latest start after the intended time.
    pub max_late: Duration,
    /// Open model: sends not made because of the in-flight cap.
    pub dropped: u64,
    /// Requests cut at the load phase's deadline.
    pub cut: u64,
    /// Requests their clients abandoned, kept out of latencies, errors and counts.
    pub abandoned: u64,
    /// The cadence the correction assumed for each user (median response time plus
    /// mean think time); `None` when nothing was corrected.
    pub cadence: Option<Duration>,
    /// Streamed transactions, all together, scored as `overall` is (uncorrected: a
    /// stream's timing is what its client saw).
    pub stream: StreamStats,
    /// Per streamed transaction.
    pub streams: BTreeMap<String, StreamStats>,
    /// The objectives goodput counts against (`--slo`), when given.
    pub slo: Option<Slo>,
    /// The completion timeline and candidate samples the correction reads.
    omission: Omission,
}

/// Receives samples into `r` (see [`Recorded::scoring`]) until every sender is gone,
/// then applies `correction`.
pub async fn collect(
    mut rx: UnboundedReceiver<Sample>,
    correction: Correction,
    mut r: Recorded,
) -> Recorded {
    while let Some(s) = rx.recv().await {
        r.add(&s, correction);
    }
    r.finish(correction);
    r
}

impl Recorded {
    /// Nothing recorded yet; samples that start in `[warmup, until)` will be scored.
    pub fn scoring(warmup: Duration, until: Option<Duration>) -> Self {
        Recorded {
            warmup,
            until,
            ..Recorded::default()
        }
    }

    /// Judges every sample against `slo` as well, when given.
    pub fn with_slo(mut self, slo: Option<Slo>) -> Self {
        self.slo = slo;
        self
    }

    /// Adds the sends a stall held back, once every sample is in.
    pub fn finish(&mut self, correction: Correction) {
        let Correction::Schedule { think_mean } = correction else {
            return;
        };
        if self.overall_raw.count() == 0 {
            return;
        }
        let usual = Duration::from_micros(self.overall_raw.percentile_us(50.0));
        let cadence = usual + think_mean;
        self.cadence = Some(cadence);
        for b in self.omission.backfill(cadence, usual) {
            self.overall.record(b.latency_us);
            self.transactions
                .entry(b.transaction)
                .or_default()
                .record(b.latency_us);
            self.backfilled += 1;
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, s: &Sample, correction: Correction) {
        let us = s.latency.as_micros() as u64;
        let label = s.status_label();
        let error = s.is_error();
        let idx = s.at.as_secs() as usize;
        if self.seconds.len() <= idx {
            self.seconds.resize_with(idx + 1, Second::default);
        }
        if s.abandoned {
            // Nothing is known of it but that its client left: it shows in the status
            // mix and its own count, and in no latency, error rate or request count.
            self.seconds[idx].counts.add_status(label.as_str());
            let scored = s.at >= self.warmup && self.until.is_none_or(|u| s.at < u);
            if scored {
                self.abandoned += 1;
                self.totals.add_status(label.as_str());
            }
            return;
        }
        if matches!(correction, Correction::Schedule { .. }) && !s.dropped {
            self.omission.completed(s.at.as_micros() as u64, us);
        }
        let met = self.slo.map(|slo| slo.met(s));
        let sec = &mut self.seconds[idx];
        if !s.dropped {
            sec.latency.record(us);
        }
        sec.counts.add(s, label.as_str());
        if let Some(met) = met {
            sec.counts.judge(met);
        }
        if let Some(stream) = &s.stream {
            sec.stream.get_or_insert_default().add(stream);
        }
        // A request cut at the deadline is scored even when it started in the warm-up:
        // it went unanswered through the whole scored window, and a SUT that answers
        // nothing must still get a verdict.
        let in_warmup = s.at < self.warmup && !s.cut;
        if in_warmup || self.until.is_some_and(|u| s.at >= u) {
            return;
        }

        self.late += u64::from(s.late >= LATE);
        self.max_late = self.max_late.max(s.late);
        self.dropped += u64::from(s.dropped);
        self.cut += u64::from(s.cut);
        if !s.dropped {
            histogram(&mut self.transactions, &s.transaction).record(us);
            self.overall.record(us);
            self.overall_raw.record(us);
            if !error {
                self.succeeded.record(us);
            }
            if let Correction::Schedule { think_mean } = correction {
                self.omission
                    .consider(&s.transaction, s.at.as_micros() as u64, us, think_mean);
            }
        }
        for (op, d) in &s.operations {
            histogram(&mut self.operations, op).record(d.as_micros() as u64);
        }
        self.totals.add(s, label.as_str());
        if let Some(met) = met {
            self.totals.judge(met);
        }
        if let Some(stream) = &s.stream {
            self.stream.add(stream);
            if !self.streams.contains_key(&s.transaction) {
                self.streams
                    .insert(s.transaction.clone(), StreamStats::default());
            }
            if let Some(t) = self.streams.get_mut(&s.transaction) {
                t.add(stream);
            }
        }
    }

    /// Errors over the scored transactions; 0 when nothing ran.
    pub fn error_rate(&self) -> f64 {
        self.totals.error_rate()
    }

    /// Everything about the transactions that started within `[from, to)` seconds.
    pub fn window(&self, from: usize, to: usize) -> Second {
        let mut w = Second::default();
        for s in self.seconds.iter().take(to).skip(from) {
            w.merge(s);
        }
        w
    }
}

/// Parses a `Server-Timing` header: `name;dur=12.5, other;desc="x";dur=3`.
pub fn parse_server_timing(header: &str) -> Vec<(String, Duration)> {
    header
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let name = parts.next().filter(|n| !n.is_empty())?;
            let ms = parts
                .filter_map(|p| p.strip_prefix("dur="))
                .find_map(|v| v.parse::<f64>().ok())?;
            (ms.is_finite() && ms >= 0.0)
                .then(|| (name.to_owned(), Duration::from_secs_f64(ms / 1000.0)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_labels_name_the_code_or_why_there_is_none() {
        let label = |status, cut, dropped| {
            Sample {
                status,
                cut,
                dropped,
                ..Sample::default()
            }
            .status_label()
            .as_str()
            .to_owned()
        };
        assert_eq!(label(Some(200), false, false), "200");
        assert_eq!(label(Some(404), false, false), "404");
        assert_eq!(label(Some(503), false, false), "503");
        assert_eq!(label(None, false, false), "transport");
        assert_eq!(label(None, true, false), "timeout");
        assert_eq!(label(None, false, true), "dropped");
        assert_eq!(label(Some(42), false, false), "invalid");
    }

    #[test]
    fn parses_server_timing_and_skips_junk() {
        let ops = parse_server_timing(
            "entity_resolver.resolve;dur=2.5, cache;desc=\"hit\", x;dur=-1, request_handler.handle_request;desc=\"t\";dur=31",
        );
        assert_eq!(
            ops,
            vec![
                (
                    "entity_resolver.resolve".into(),
                    Duration::from_micros(2500)
                ),
                (
                    "request_handler.handle_request".into(),
                    Duration::from_millis(31)
                ),
            ]
        );
    }

    #[tokio::test]
    async fn collector_ends_when_senders_are_gone() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let worker = tx.clone();
        drop(tx);
        for (i, status) in [Some(200), Some(503), None].into_iter().enumerate() {
            worker
                .send(Sample {
                    transaction: "chat".into(),
                    at: Duration::from_millis(600 * i as u64),
                    latency: Duration::from_millis(10),
                    status,
                    operations: vec![("op.a".into(), Duration::from_millis(4))],
                    fallback: Some(if i == 0 { "none" } else { "template" }.into()),
                    ..Sample::default()
                })
                .expect("send");
        }
        drop(worker);
        let r = collect(
            rx,
            Correction::None,
            Recorded::scoring(Duration::ZERO, None),
        )
        .await;
        assert_eq!((r.totals.requests, r.totals.errors), (3, 2));
        assert_eq!(r.seconds.len(), 2);
        assert_eq!(r.seconds[0].counts.requests, 3 - 1);
        assert_eq!(r.seconds[0].counts.fallbacks, 1);
        assert_eq!(r.totals.statuses.get("transport"), Some(&1));
        assert_eq!(r.operations["op.a"].count(), 3);
    }
}
