//! The run's seconds folded into wider windows when there are more than a chart can
//! show: a 1 h soak has 3,600 points for a plot about 870 px wide. Counts add up, and
//! percentiles come from the merged HDR histograms of the seconds, not from averaging
//! percentiles (which would hide the tail).

use crate::record::{Counts, Latency, StreamStats};
use crate::results::{Results, SecondPoint, StreamPoint};

/// At most this many points per chart line: below one per pixel and a half.
pub const MAX_POINTS: usize = 600;

/// One window of the time axis, `seconds` wide.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The middle of the window, seconds from the start of load.
    pub mid: f64,
    /// How many seconds it covers (the last one may be shorter).
    pub seconds: u64,
    /// The window's seconds added up; its percentiles are the merged histogram's.
    pub point: SecondPoint,
}

impl Window {
    /// Transactions started per second over the window.
    pub fn throughput(&self) -> f64 {
        self.point.requests as f64 / self.seconds.max(1) as f64
    }

    /// `n` as a percentage of the window's transactions, if it had any.
    pub fn share(&self, n: u64) -> Option<f64> {
        (self.point.requests > 0).then(|| 100.0 * n as f64 / self.point.requests as f64)
    }
}

/// How many seconds one window spans so that `len` seconds fit in `max` points.
pub fn width(len: usize, max: usize) -> u64 {
    len.div_ceil(max.max(1)).max(1) as u64
}

/// `timeline` in windows of [`width`] seconds, at most `max` of them.
pub fn fold(timeline: &[SecondPoint], max: usize) -> Vec<Window> {
    let w = width(timeline.len(), max) as usize;
    timeline
        .chunks(w)
        .map(|chunk| {
            let seconds = chunk.len() as u64;
            Window {
                mid: chunk[0].t as f64 + seconds as f64 / 2.0,
                seconds,
                // A lone second is already what the chart needs; only folds decode.
                point: if seconds == 1 {
                    chunk[0].clone()
                } else {
                    merge(chunk)
                },
            }
        })
        .collect()
}

/// The streams of several seconds as one point; `None` when none streamed or one's
/// histograms cannot be read.
fn merged_streams(chunk: &[SecondPoint]) -> Option<StreamPoint> {
    let mut all: Option<StreamStats> = None;
    for p in chunk.iter().filter_map(|p| p.stream.as_ref()) {
        all.get_or_insert_default()
            .merge(&StreamStats::from_point(p).ok()?);
    }
    all.map(|s| s.to_point())
}

/// Several seconds as one point.
fn merge(chunk: &[SecondPoint]) -> SecondPoint {
    let mut counts = Counts::default();
    let mut merged = Some(Latency::new());
    for p in chunk {
        counts.merge(&Counts::of_point(p));
        // A second whose histogram is missing or unreadable (a trimmed file) leaves the
        // window with the worst of its seconds' percentiles instead.
        // Once one second is missing, the rest need not be decoded.
        merged = merged.and_then(|mut m| match Latency::decode(&p.hdr) {
            Ok(h) if h.count() > 0 || p.requests == 0 => {
                m.merge(&h);
                Some(m)
            }
            _ => None,
        });
    }
    // The window's histogram is not stored: the chart reads only its percentiles.
    let mut out = SecondPoint {
        t: chunk[0].t,
        requests: counts.requests,
        errors: counts.errors,
        fallbacks: counts.fallbacks,
        degraded: counts.degraded,
        templated: counts.templated,
        cache_sourced: counts.cache_sourced,
        fallback_kinds: counts.fallback_kinds,
        p50_us: 0,
        p95_us: 0,
        p99_us: 0,
        statuses: counts.statuses,
        hdr: String::new(),
        stream: merged_streams(chunk),
        slo_met: counts.slo_met,
    };
    match merged {
        Some(h) if h.count() > 0 => {
            out.p50_us = h.percentile_us(50.0);
            out.p95_us = h.percentile_us(95.0);
            out.p99_us = h.percentile_us(99.0);
        }
        _ => {
            let worst = |f: fn(&SecondPoint) -> u64| chunk.iter().map(f).max().unwrap_or(0);
            out.p50_us = worst(|p| p.p50_us);
            out.p95_us = worst(|p| p.p95_us);
            out.p99_us = worst(|p| p.p99_us);
        }
    }
    out
}

/// `r` with its timeline repeated until it covers `seconds`, its phases and duration
/// stretched to match: a soak-length run made from a short one, for the render
/// benchmark and the tests of long runs.
pub fn stretch(r: &Results, seconds: u64) -> Results {
    let mut out = r.clone();
    let len = r.timeline.len().max(1) as u64;
    out.timeline = (0..seconds)
        .filter_map(|t| {
            let mut p = r.timeline.get((t % len) as usize)?.clone();
            p.t = t;
            Some(p)
        })
        .collect();
    let factor = seconds as f64 / r.duration_s.max(1.0);
    out.duration_s = seconds as f64;
    for p in &mut out.phases {
        p.start_s *= factor;
        p.end_s *= factor;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(t: u64, samples_ms: &[u64], errors: u64) -> SecondPoint {
        let mut h = Latency::new();
        for ms in samples_ms {
            h.record(ms * 1000);
        }
        SecondPoint {
            t,
            requests: samples_ms.len() as u64,
            errors,
            fallbacks: errors,
            degraded: 0,
            templated: 0,
            cache_sourced: 0,
            fallback_kinds: Default::default(),
            p50_us: h.percentile_us(50.0),
            p95_us: h.percentile_us(95.0),
            p99_us: h.percentile_us(99.0),
            statuses: [("200".to_owned(), samples_ms.len() as u64 - errors)].into(),
            hdr: h.encode(),
            stream: None,
            slo_met: None,
        }
    }

    #[test]
    fn short_runs_keep_every_second() {
        let tl: Vec<_> = (0..40).map(|t| second(t, &[100, 120], 0)).collect();
        let w = fold(&tl, MAX_POINTS);
        assert_eq!(w.len(), 40);
        assert_eq!(w[3].point, tl[3]);
        assert_eq!(w[3].mid, 3.5);
    }

    #[test]
    fn an_hour_folds_into_at_most_max_points_and_nothing_is_lost() {
        // One slow second in every six: its tail must survive the fold.
        let tl: Vec<_> = (0..3600)
            .map(|t| {
                if t % 6 == 5 {
                    second(
                        t,
                        &[100; 9].iter().copied().chain([900]).collect::<Vec<_>>(),
                        1,
                    )
                } else {
                    second(t, &[100; 10], 0)
                }
            })
            .collect();
        let w = fold(&tl, MAX_POINTS);
        assert_eq!(w.len(), 600);
        assert!(w.iter().all(|w| w.seconds == 6));
        assert_eq!(
            w.iter().map(|w| w.point.requests).sum::<u64>(),
            tl.iter().map(|p| p.requests).sum::<u64>()
        );
        assert_eq!(w.iter().map(|w| w.point.errors).sum::<u64>(), 600);
        let first = &w[0];
        assert_eq!(first.mid, 3.0);
        assert_eq!(first.throughput(), 10.0);
        assert_eq!(first.point.statuses["200"], 59);
        // 60 samples, one of them 900 ms: p99 of the merge is that sample, p50 is not.
        assert!(first.point.p99_us >= 899_000, "{}", first.point.p99_us);
        assert!(first.point.p50_us < 101_000, "{}", first.point.p50_us);
        assert!((first.share(first.point.errors).unwrap() - 100.0 / 60.0).abs() < 1e-9);
    }

    #[test]
    fn seconds_without_histograms_fall_back_to_their_worst_percentiles() {
        let mut tl: Vec<_> = (0..12).map(|t| second(t, &[100, 200], 0)).collect();
        tl[4].hdr = "not base64!".into();
        tl[4].p99_us = 5_000_000;
        let w = fold(&tl, 4);
        assert_eq!(w.len(), 4);
        assert_eq!(w[1].point.p99_us, 5_000_000);
        assert!(w[0].point.p99_us < 5_000_000);
    }

    #[test]
    fn widths() {
        assert_eq!(width(0, 600), 1);
        assert_eq!(width(600, 600), 1);
        assert_eq!(width(601, 600), 2);
        assert_eq!(width(3600, 600), 6);
    }
}
