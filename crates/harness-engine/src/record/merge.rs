//! Records from results files, added together: the histograms bin by bin (HDR add), the
//! seconds of the timeline second by second, the counters as sums. Nothing is averaged,
//! so the percentiles of a merge are those of one histogram over every sample.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Counts, HistogramError, Latency, Recorded, Second, StreamStats};
use crate::results::{HistogramSummary, Results};

fn decoded(s: &HistogramSummary) -> Result<Latency, HistogramError> {
    Latency::decode(&s.hdr)
}

fn decoded_map(
    m: &BTreeMap<String, HistogramSummary>,
) -> Result<BTreeMap<String, Latency>, HistogramError> {
    m.iter()
        .map(|(k, s)| Ok((k.clone(), decoded(s)?)))
        .collect()
}

fn add_histograms(into: &mut BTreeMap<String, Latency>, from: &BTreeMap<String, Latency>) {
    for (k, h) in from {
        into.entry(k.clone()).or_default().merge(h);
    }
}

impl Recorded {
    /// The record a results file holds, decoded from its stored histograms: what
    /// `harness merge` adds up and scores. Goodput's histogram is not stored, and stays
    /// empty.
    pub fn from_results(r: &Results) -> Result<Recorded, HistogramError> {
        let load = r.load.clone().unwrap_or_default();
        let seconds = r
            .timeline
            .iter()
            .map(Second::from_point)
            .collect::<Result<Vec<_>, HistogramError>>()?;
        let (stream, streams) = match &r.streams {
            Some(s) => (
                StreamStats::from_summary(&s.overall)?,
                s.transactions
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), StreamStats::from_summary(v)?)))
                    .collect::<Result<_, HistogramError>>()?,
            ),
            None => Default::default(),
        };
        let mut totals = Counts::from_totals(&r.totals);
        totals.slo_met = r.goodput.as_ref().map(|g| g.met);
        Ok(Recorded {
            stream,
            streams,
            // Written by the harness from a parsed `--slo`, so it parses back.
            slo: r.goodput.as_ref().and_then(|g| g.slo.parse().ok()),
            transactions: decoded_map(&r.transactions)?,
            overall: decoded(&r.overall)?,
            overall_raw: decoded(&r.overall_raw)?,
            operations: decoded_map(&r.operations)?,
            seconds,
            totals,
            warmup: Duration::from_secs_f64(r.warmup_s.max(0.0)),
            backfilled: load.backfilled,
            late: load.late,
            max_late: Duration::from_secs_f64((load.max_late_ms / 1e3).max(0.0)),
            dropped: load.dropped,
            cut: load.cut,
            abandoned: load.abandoned,
            ..Recorded::default()
        })
    }

    /// Adds `other`'s samples and counts to this record: another shard of the same run,
    /// on the same schedule, so second `t` of each is the same second of the load.
    pub fn absorb(&mut self, other: &Recorded) {
        add_histograms(&mut self.transactions, &other.transactions);
        self.overall.merge(&other.overall);
        self.overall_raw.merge(&other.overall_raw);
        self.succeeded.merge(&other.succeeded);
        add_histograms(&mut self.operations, &other.operations);
        if self.seconds.len() < other.seconds.len() {
            self.seconds
                .resize_with(other.seconds.len(), Second::default);
        }
        for (mine, theirs) in self.seconds.iter_mut().zip(&other.seconds) {
            mine.merge(theirs);
        }
        self.totals.merge(&other.totals);
        self.stream.merge(&other.stream);
        for (name, s) in &other.streams {
            self.streams.entry(name.clone()).or_default().merge(s);
        }
        self.slo = self.slo.or(other.slo);
        self.backfilled += other.backfilled;
        self.late += other.late;
        self.max_late = self.max_late.max(other.max_late);
        self.dropped += other.dropped;
        self.cut += other.cut;
        self.abandoned += other.abandoned;
        // Each shard's correction assumed its own cadence; the union has none.
        self.cadence = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Correction, Sample};

    fn sample(ms: u64, at_s: u64, status: u16) -> Sample {
        Sample {
            transaction: "get".into(),
            at: Duration::from_secs(at_s),
            latency: Duration::from_millis(ms),
            status: Some(status),
            ..Sample::default()
        }
    }

    fn record(samples: &[Sample]) -> Recorded {
        let mut r = Recorded::scoring(Duration::ZERO, None);
        for s in samples {
            r.add(s, Correction::None);
        }
        r
    }

    #[test]
    fn a_results_file_decodes_to_the_record_it_summarises() {
        let results: Results =
            serde_json::from_str(include_str!("../../../../fixtures/results/smoke.json"))
                .expect("fixture");
        let r = Recorded::from_results(&results).expect("decodes");
        let stored = |s: &HistogramSummary| (s.count, s.p50_us, s.p95_us, s.p99_us);
        let read = |h: &Latency| {
            (
                h.count(),
                h.percentile_us(50.0),
                h.percentile_us(95.0),
                h.percentile_us(99.0),
            )
        };
        assert_eq!(read(&r.overall), stored(&results.overall));
        assert_eq!(read(&r.overall_raw), stored(&results.overall_raw));
        for (name, s) in &results.operations {
            assert_eq!(read(&r.operations[name]), stored(s), "{name}");
        }
        assert_eq!(r.seconds.len(), results.timeline.len());
        let requests: u64 = r.seconds.iter().map(|s| s.counts.requests).sum();
        assert_eq!(
            requests,
            results.timeline.iter().map(|p| p.requests).sum::<u64>()
        );
        assert_eq!(
            (r.totals.requests, r.totals.errors),
            (results.totals.requests, results.totals.errors)
        );
    }

    #[test]
    fn a_merge_reads_as_one_histogram_over_the_union() {
        // Two shards that alone stay at 10 ms p95; the union's slow tail is 20 of 100.
        let a: Vec<Sample> = (0..50)
            .map(|i| sample(if i < 45 { 10 } else { 900 }, i % 3, 200))
            .collect();
        let b: Vec<Sample> = (0..50)
            .map(|i| {
                sample(
                    if i < 35 { 10 } else { 900 },
                    i % 4,
                    if i == 0 { 500 } else { 200 },
                )
            })
            .collect();
        let mut merged = record(&a);
        merged.absorb(&record(&b));
        let both: Vec<Sample> = a.iter().chain(&b).cloned().collect();
        let union = record(&both);
        assert_eq!(merged.totals.requests, 100);
        assert_eq!(merged.totals.errors, 1);
        assert_eq!(merged.totals.statuses, union.totals.statuses);
        for q in [50.0, 80.0, 81.0, 95.0, 99.0] {
            assert_eq!(
                merged.overall.percentile_us(q),
                union.overall.percentile_us(q),
                "p{q}"
            );
        }
        assert_eq!(merged.seconds.len(), 4);
        for (m, u) in merged.seconds.iter().zip(&union.seconds) {
            assert_eq!(
                (m.counts.requests, m.counts.errors),
                (u.counts.requests, u.counts.errors)
            );
            assert_eq!(m.latency.percentile_us(95.0), u.latency.percentile_us(95.0));
        }
    }

    #[test]
    fn streams_and_goodput_merge_exactly() {
        use crate::record::StreamSample;
        use crate::results::StreamEnd;
        let streamed = |ttft: u64, gap: u64, at_s: u64| Sample {
            stream: Some(StreamSample {
                ttft: Some(Duration::from_millis(ttft)),
                gaps: vec![Duration::from_millis(gap); 4],
                tokens: 5,
                end: if gap > 50 {
                    StreamEnd::Stalled
                } else {
                    StreamEnd::Done
                },
                e2e: Duration::from_millis(ttft + 4 * gap),
            }),
            ..sample(ttft + 4 * gap, at_s, 200)
        };
        let slo = Some("ttft=100ms".parse().expect("slo"));
        let scored = |samples: &[Sample]| {
            let mut r = Recorded::scoring(Duration::ZERO, None).with_slo(slo);
            for s in samples {
                r.add(s, Correction::None);
            }
            r
        };
        let a: Vec<Sample> = (0..40).map(|i| streamed(50 + i, 10, i % 3)).collect();
        let b: Vec<Sample> = (0..30)
            .map(|i| streamed(90 + 5 * i, 10 + i * 3, i % 2))
            .collect();
        // Through results files and back, as `harness merge` reads them.
        let stored = |r: &Recorded| {
            let mut res: Results =
                serde_json::from_str(include_str!("../../../../fixtures/results/smoke.json"))
                    .expect("fixture");
            res.streams = r.stream_results(3.0);
            res.goodput = r.goodput();
            res.timeline = (0..r.seconds.len())
                .map(|t| r.seconds[t].to_point(t as u64))
                .collect();
            res.totals = r.totals.to_totals(1.0);
            Recorded::from_results(&res).expect("decodes")
        };
        let mut merged = stored(&scored(&a));
        merged.absorb(&stored(&scored(&b)));
        let both: Vec<Sample> = a.iter().chain(&b).cloned().collect();
        let union = scored(&both);
        for q in [50.0, 90.0, 95.0, 99.0] {
            for (m, u) in [
                (&merged.stream.ttft, &union.stream.ttft),
                (&merged.stream.itl, &union.stream.itl),
                (&merged.stream.tpot, &union.stream.tpot),
                (&merged.streams["get"].e2e, &union.stream.e2e),
            ] {
                assert_eq!(m.percentile_us(q), u.percentile_us(q), "p{q}");
            }
        }
        assert_eq!(merged.stream.ends, union.stream.ends);
        assert_eq!(merged.totals.slo_met, union.totals.slo_met);
        assert_eq!(merged.goodput(), union.goodput());
        for (m, u) in merged.seconds.iter().zip(&union.seconds) {
            let ttft = |s: &Second| s.stream.as_ref().map(|x| x.ttft.percentile_us(95.0));
            assert_eq!(ttft(m), ttft(u));
            assert_eq!(m.counts.slo_met, u.counts.slo_met);
        }
    }
}
