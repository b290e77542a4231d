//! Time to recover: from the removal of a fault until the rolling p95 and error rate
//! stay inside the baseline band for N consecutive windows. The band also bounds the
//! share of fallback answers: a service that answers fast and without errors, but
//! from its template because the breaker is still open, has not recovered. With
//! `--slo`, goodput too must be back within a margin of the baseline's: a stream that
//! answers without error but with its first token late has not recovered either.

use std::time::Duration;

use crate::record::{ratio, Recorded};

/// What "back to baseline" means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Rolling window, seconds.
    pub window_s: usize,
    /// Consecutive windows that must be inside the band.
    pub consecutive: usize,
    /// p95 may be up to baseline × this factor …
    pub p95_factor: f64,
    /// … plus this much (so a 5 ms baseline does not demand 5 ms exactly).
    pub p95_slack: Duration,
    /// Error rate may exceed the baseline's by this much (absolute).
    pub error_margin: f64,
    /// The share of fallback answers may exceed the baseline's by this much (absolute).
    pub fallback_margin: f64,
    /// Goodput (`--slo`) may fall short of the baseline's by this much (absolute).
    pub goodput_margin: f64,
}

impl Default for Band {
    fn default() -> Self {
        Band {
            window_s: 3,
            consecutive: 3,
            p95_factor: 1.5,
            p95_slack: Duration::from_millis(50),
            error_margin: 0.01,
            fallback_margin: 0.05,
            goodput_margin: 0.05,
        }
    }
}

/// p95 (µs) and error rate of a span of seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// End-to-end p95, µs.
    pub p95_us: u64,
    /// Errors / transactions.
    pub error_rate: f64,
    /// Answers with a fallback other than `none` / transactions.
    pub fallback_rate: f64,
    /// Transactions.
    pub requests: u64,
    /// The share that met every objective of `--slo`, when given.
    pub goodput: Option<f64>,
}

/// The level of seconds `[from, to)`.
pub fn level(rec: &Recorded, from: usize, to: usize) -> Level {
    let w = rec.window(from, to);
    Level {
        p95_us: w.latency.percentile_us(95.0),
        error_rate: w.counts.error_rate(),
        fallback_rate: ratio(w.counts.fallbacks, w.counts.requests),
        requests: w.counts.requests,
        goodput: w.counts.goodput(),
    }
}

impl Band {
    /// Whether `l` is inside the band around `baseline`. An empty window is not: with
    /// no answers there is no evidence of recovery.
    pub fn contains(&self, baseline: Level, l: Level) -> bool {
        let limit = baseline.p95_us as f64 * self.p95_factor + self.p95_slack.as_micros() as f64;
        l.requests > 0
            && (l.p95_us as f64) <= limit
            && l.error_rate <= baseline.error_rate + self.error_margin
            && l.fallback_rate <= baseline.fallback_rate + self.fallback_margin
            && match (baseline.goodput, l.goodput) {
                (Some(b), Some(g)) => g >= b - self.goodput_margin,
                _ => true,
            }
    }

    /// Seconds from `removed_s` until the first of `consecutive` windows in a row that
    /// are inside the band, looking no further than `end_s`. `None`: not recovered.
    pub fn time_to_recover(
        &self,
        rec: &Recorded,
        baseline: Level,
        removed_s: usize,
        end_s: usize,
    ) -> Option<Duration> {
        let w = self.window_s.max(1);
        let need = self.consecutive.max(1);
        let mut run = 0;
        // A window ending at second t covers [t + 1 - w, t + 1); it must start after removal.
        for t in (removed_s + w - 1)..end_s {
            if self.contains(baseline, level(rec, t + 1 - w, t + 1)) {
                run += 1;
                if run == need {
                    // Recovered when the first good window of the run began.
                    let first_start = t + 1 - w - (need - 1);
                    return Some(Duration::from_secs((first_start - removed_s) as u64));
                }
            } else {
                run = 0;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Sample;

    /// One sample per second at the given latency (ms) and status.
    fn timeline(points: &[(u64, Option<u16>)]) -> Recorded {
        let mut r = Recorded::default();
        for (t, &(ms, status)) in points.iter().enumerate() {
            for _ in 0..10 {
                r.add(
                    &Sample {
                        transaction: "t".into(),
                        at: Duration::from_secs(t as u64),
                        latency: Duration::from_millis(ms),
                        status,
                        ..Sample::default()
                    },
                    crate::record::Correction::None,
                );
            }
        }
        r
    }

    #[test]
    fn recovery_is_timed_from_removal_to_a_stable_band() {
        // 0–9 baseline 100 ms; 10–19 fault 2 s; removal at 20; slow until 25; then fine,
        // with one bad blip at 27 that resets the count.
        let mut pts = vec![(100, Some(200)); 10];
        pts.extend(vec![(2000, Some(200)); 10]);
        pts.extend(vec![(800, Some(200)); 5]);
        pts.extend(vec![(100, Some(200)); 2]);
        pts.push((100, Some(503)));
        pts.extend(vec![(100, Some(200)); 12]);
        let rec = timeline(&pts);
        let band = Band::default();
        let base = level(&rec, 0, 10);
        assert_eq!(base.p95_us / 1000, 100);
        // The blip at 27 poisons windows ending 27–29; from 28 on, three clean windows
        // ending at 30, 31, 32 start at 28.
        assert_eq!(
            band.time_to_recover(&rec, base, 20, pts.len()),
            Some(Duration::from_secs(8))
        );
        // Never back inside the band: no recovery.
        assert_eq!(band.time_to_recover(&rec, base, 10, 20), None);
    }

    #[test]
    fn empty_windows_are_not_recovery() {
        let band = Band::default();
        let base = Level {
            p95_us: 1000,
            error_rate: 0.0,
            fallback_rate: 0.0,
            requests: 5,
            goodput: None,
        };
        assert!(!band.contains(
            base,
            Level {
                p95_us: 0,
                error_rate: 0.0,
                fallback_rate: 0.0,
                requests: 0,
                goodput: None
            }
        ));
        assert!(band.contains(
            base,
            Level {
                p95_us: 1500,
                error_rate: 0.005,
                fallback_rate: 0.04,
                requests: 3,
                goodput: None
            }
        ));
        assert!(!band.contains(
            base,
            Level {
                p95_us: 1000,
                error_rate: 0.02,
                fallback_rate: 0.0,
                requests: 3,
                goodput: None
            }
        ));
        // Fast and error-free, but from the template: not recovered.
        assert!(!band.contains(
            base,
            Level {
                p95_us: 900,
                error_rate: 0.0,
                fallback_rate: 0.5,
                requests: 3,
                goodput: None
            }
        ));
    }

    #[test]
    fn with_an_slo_goodput_must_be_back_too() {
        let band = Band::default();
        let level = |goodput| Level {
            p95_us: 1000,
            error_rate: 0.0,
            fallback_rate: 0.0,
            requests: 10,
            goodput,
        };
        assert!(band.contains(level(Some(0.98)), level(Some(0.94))));
        // Answers without error, in time end to end, but the first tokens come late.
        assert!(!band.contains(level(Some(0.98)), level(Some(0.90))));
        assert!(band.contains(level(None), level(None)));
    }
}
