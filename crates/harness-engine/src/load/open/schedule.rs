//! Arrival schedules: the intended send time of every open-model request.
//!
//! The stages give a rate over time (linear during a ramp, flat during a hold), and so
//! a cumulative count `N(t)`. The k-th send is where `N(t)` reaches the k-th target:
//! `k` for constant spacing, a sum of k unit exponentials for a Poisson process (a
//! time-rescaled Poisson process is Poisson at the rate in force). One rule covers
//! constant rates, ramps and both arrival kinds.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{Arrival, Stage};

/// One piece of the rate curve: from `rate0` to `rate1` over `len` seconds.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: f64,
    len: f64,
    rate0: f64,
    rate1: f64,
    /// Sends due before this piece.
    before: f64,
}

/// The intended send offsets, from the start of the load phase, in order.
#[derive(Debug)]
pub struct Schedule {
    pieces: Vec<Piece>,
    arrival: Arrival,
    target: f64,
    rng: StdRng,
}

impl Schedule {
    /// The schedule of `stages` (each ramps from the previous stage's rate, the first
    /// from 0), spaced by `arrival`; `seed` fixes a Poisson schedule.
    pub fn new(stages: &[Stage], arrival: Arrival, seed: u64) -> Self {
        let mut pieces = Vec::new();
        let (mut t, mut before, mut rate) = (0.0, 0.0, 0.0);
        for s in stages {
            let r = s.rate.unwrap_or(0.0);
            for (len, r0, r1) in [
                (s.ramp.as_secs_f64(), rate, r),
                (s.hold.as_secs_f64(), r, r),
            ] {
                if len > 0.0 {
                    pieces.push(Piece {
                        start: t,
                        len,
                        rate0: r0,
                        rate1: r1,
                        before,
                    });
                    t += len;
                    before += len * (r0 + r1) / 2.0;
                }
            }
            rate = r;
        }
        let mut s = Schedule {
            pieces,
            arrival,
            target: 0.0,
            rng: StdRng::seed_from_u64(seed),
        };
        // A constant schedule sends its first request at once; a Poisson one after its
        // first gap.
        if arrival == Arrival::Poisson {
            s.target = s.gap();
        }
        s
    }

    fn gap(&mut self) -> f64 {
        match self.arrival {
            Arrival::Constant => 1.0,
            // Exp(1) by inversion; 1 - u lies in (0, 1].
            Arrival::Poisson => -(1.0 - self.rng.gen::<f64>()).ln(),
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let c = self.target;
        let p = *self
            .pieces
            .iter()
            .find(|p| c < p.before + p.len * (p.rate0 + p.rate1) / 2.0)?;
        // Solve rate0·x + a·x²/2 = c − before within the piece.
        let want = c - p.before;
        let a = (p.rate1 - p.rate0) / p.len;
        let x = if a.abs() < 1e-12 {
            want / p.rate0
        } else {
            (-p.rate0 + (p.rate0 * p.rate0 + 2.0 * a * want).max(0.0).sqrt()) / a
        };
        self.target += self.gap();
        Some(Duration::from_secs_f64(
            (p.start + x.clamp(0.0, p.len)).max(0.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(rate: f64, ramp: u64, hold: u64) -> Stage {
        Stage {
            users: 0,
            rate: Some(rate),
            ramp: Duration::from_secs(ramp),
            hold: Duration::from_secs(hold),
        }
    }

    #[test]
    fn a_constant_rate_sends_evenly() {
        let s: Vec<Duration> = Schedule::new(&[stage(4.0, 0, 2)], Arrival::Constant, 1).collect();
        let ms: Vec<u128> = s.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![0, 250, 500, 750, 1000, 1250, 1500, 1750]);
    }

    #[test]
    fn a_ramp_sends_as_its_rate_grows() {
        // 0 → 10/s over 2 s: 10 sends, N(t) = 2.5 t², so the k-th at sqrt(k / 2.5).
        let s: Vec<f64> = Schedule::new(&[stage(10.0, 2, 1)], Arrival::Constant, 1)
            .map(|d| d.as_secs_f64())
            .collect();
        assert_eq!(s.len(), 10 + 10);
        for (k, t) in s.iter().take(10).enumerate() {
            assert!((t - (k as f64 / 2.5).sqrt()).abs() < 1e-9, "{k}: {t}");
        }
        assert!((s[10] - 2.0).abs() < 1e-9 && (s[19] - 2.9).abs() < 1e-9);
    }

    #[test]
    fn a_poisson_schedule_keeps_the_rate_with_exponential_gaps() {
        let s: Vec<f64> = Schedule::new(&[stage(200.0, 0, 100)], Arrival::Poisson, 7)
            .map(|d| d.as_secs_f64())
            .collect();
        // 20,000 expected; a Poisson count has sd √20000 ≈ 141.
        assert!((s.len() as f64 - 20_000.0).abs() < 600.0, "{}", s.len());
        let gaps: Vec<f64> = s.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        // Exponential: the standard deviation equals the mean (5 ms).
        assert!((mean - 0.005).abs() < 0.0002, "{mean}");
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.05,
            "{}",
            var.sqrt() / mean
        );
    }
}
