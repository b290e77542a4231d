//! The merge gate's statistics: base and head ran in interleaved blocks (A B B A …), and
//! each metric has one value a block for each side. Block i of base and block i of head
//! ran next to each other, so they are compared as a pair, and every figure comes from
//! the pairs' differences `d` (of the logarithm for a latency or a cost, so that a
//! change is a ratio; of the value itself for a share, which can be 0).
//!
//! - **Interval:** 95%, percentile bootstrap over the pairs. Over blocks, not requests:
//!   the variance that matters lives between blocks (a restart, the machine's state),
//!   and the requests of one block share it, so resampling requests gives an interval
//!   far too narrow.
//! - **Test:** one-sided paired t-tests of the mean `d` against the threshold
//!   (`--max-regression` as a ratio, or the share threshold in points): a metric is
//!   REGRESSED only when it is shown worse *by more than* the threshold, IMPROVED only
//!   when better by more. The t-test, not the bootstrap, because the Holm-adjusted
//!   levels below reach 1e-4, further into the tail than a handful of pairs can
//!   resample (12 pairs have 1.4 million distinct resamples, but their tail holds a few).
//! - **The gate as a whole:** Holm–Bonferroni over the metrics' regression tests at
//!   `alpha` (and, apart, over their improvement tests), split evenly over the looks a
//!   sequential gate may take: the chance that a gate with no real change says
//!   REGRESSED for any metric, at any look, is at most `alpha`.
//! - **Noise floor:** the spread between blocks of the same side that the pairing does
//!   not cancel, as the half-width of the 95% interval an A/A comparison of this many
//!   pairs would have: t · sd(d) / √n. The spread of a side's blocks about each other
//!   also holds the machine's drift from one pair to the next (on this kind of runner,
//!   20% between two pairs a minute apart), which both sides of a pair share and the
//!   differences cancel; counting it would call every metric too noisy to judge.
//!   A metric whose floor exceeds its threshold is INCONCLUSIVE, not passed.
//! - **Threshold:** `--max-regression` of base's level, and for a latency at least
//!   `--min-delta` (as a ratio of base's median): a sub-millisecond operation's 5% is
//!   a few µs, which neither Server-Timing's µs nor a restart's spread can resolve.

pub mod metrics;
mod tdist;
#[cfg(test)]
mod tests;

use crate::results::GateMetric;
pub use crate::results::{GateCall, GateReason, MetricScale};

/// One metric's values, one a block for each side, in the order the blocks ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The metric's name, as reports show it.
    pub metric: String,
    /// How a change in it is measured.
    pub scale: MetricScale,
    /// Whether its values are latencies in ms, which `min_delta_ms` applies to.
    pub ms: bool,
    /// Base's value in each of its blocks.
    pub base: Vec<f64>,
    /// Head's value in each of its blocks.
    pub head: Vec<f64>,
}

/// The gate's thresholds and error rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateSettings {
    /// A ratio metric regresses only when shown worse than this (0.05: by more than 5%).
    pub max_regression: f64,
    /// A share metric regresses only when shown worse than this many points (0.01: by
    /// more than one percentage point).
    pub max_share_change: f64,
    /// A latency's change smaller than this many ms is no change, whatever its ratio:
    /// 5% of a 30 µs operation is 1.5 µs, at the edge of what Server-Timing's µs can
    /// show and far below what one block's restart moves it by.
    pub min_delta_ms: f64,
    /// The chance a gate with no real change says REGRESSED anywhere.
    pub alpha: f64,
    /// How many times a sequential gate may judge; `alpha` is split over them.
    pub looks: u32,
    /// Bootstrap resamples for each interval.
    pub resamples: usize,
    /// The bootstrap's seed, so that a gate's figures are repeatable.
    pub seed: u64,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            max_regression: 0.05,
            max_share_change: 0.01,
            min_delta_ms: 0.05,
            alpha: 0.05,
            looks: 4,
            resamples: 2000,
            seed: 0x6a7e,
        }
    }
}

/// What the gate found for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The metric.
    pub metric: String,
    /// How its change is measured.
    pub scale: MetricScale,
    /// Pairs of blocks judged.
    pub pairs: usize,
    /// Median of base's blocks.
    pub base: f64,
    /// Median of head's blocks.
    pub head: f64,
    /// The change: head/base − 1 for a ratio metric (0.10 is 10% worse), head − base
    /// for a share.
    pub change: f64,
    /// The 95% bootstrap interval of the change.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// The half-width of the interval an A/A comparison of these blocks would have, in
    /// the change's units.
    pub noise_floor: f64,
    /// The threshold the change is judged against, in the same units.
    pub threshold: f64,
    /// One-sided p-value that the change is worse than the threshold (unadjusted).
    pub p_regressed: f64,
    /// One-sided p-value that it is better by more than the threshold (unadjusted).
    pub p_improved: f64,
    /// The verdict.
    pub call: GateCall,
    /// What decided it.
    pub reason: GateReason,
}

/// The fewest pairs a metric is judged on.
pub const MIN_PAIRS: usize = 3;

/// Judges every metric, the family's error controlled as the module says.
pub fn judge(series: &[Series], s: &GateSettings) -> Vec<Judgement> {
    // The 97.5th t quantile of each degrees of freedom met, found once (a bisection).
    let mut quantiles: Vec<(usize, f64)> = Vec::new();
    let mut t975 = |df: usize| match quantiles.iter().find(|(d, _)| *d == df) {
        Some((_, t)) => *t,
        None => {
            let t = tdist::upper_quantile(0.025, df as f64);
            quantiles.push((df, t));
            t
        }
    };
    let mut out: Vec<Judgement> = series
        .iter()
        .enumerate()
        .map(|(i, x)| judge_one(x, s, s.seed.wrapping_add(i as u64), &mut t975))
        .collect();
    let level = s.alpha / f64::from(s.looks.max(1));
    let regressed = holm(out.iter().map(|j| j.p_regressed), level);
    let improved = holm(out.iter().map(|j| j.p_improved), level);
    for (i, j) in out.iter_mut().enumerate() {
        if j.reason != GateReason::Interval {
            continue;
        }
        (j.call, j.reason) = if regressed[i] {
            (GateCall::Regressed, GateReason::Test)
        } else if improved[i] {
            (GateCall::Improved, GateReason::Test)
        } else if j.noise_floor > j.threshold {
            (GateCall::Inconclusive, GateReason::NoiseFloor)
        } else if j.low > -j.threshold && j.high < j.threshold {
            (GateCall::Unchanged, GateReason::Interval)
        } else {
            (GateCall::Inconclusive, GateReason::Interval)
        };
    }
    out
}

/// The gate's verdict from its metrics': REGRESSED if any is, else INCONCLUSIVE if any
/// is, else IMPROVED if any is, else UNCHANGED.
pub fn overall(judged: &[Judgement]) -> GateCall {
    let any = |c: GateCall| judged.iter().any(|j| j.call == c);
    if any(GateCall::Regressed) {
        GateCall::Regressed
    } else if any(GateCall::Inconclusive) || judged.is_empty() {
        GateCall::Inconclusive
    } else if any(GateCall::Improved) {
        GateCall::Improved
    } else {
        GateCall::Unchanged
    }
}

/// A judgement as `gate.json` states it, with each side's value in every block (a
/// figure that is not a number, such as a missing metric's, is `null`).
pub fn stated(j: &Judgement, x: &Series) -> GateMetric {
    let num = |v: f64| v.is_finite().then_some(v);
    GateMetric {
        metric: j.metric.clone(),
        scale: j.scale,
        pairs: j.pairs as u32,
        base: num(j.base),
        head: num(j.head),
        change: num(j.change),
        low: num(j.low),
        high: num(j.high),
        noise_floor: num(j.noise_floor),
        threshold: j.threshold,
        p_regressed: num(j.p_regressed),
        p_improved: num(j.p_improved),
        call: j.call,
        reason: j.reason,
        base_values: x.base.iter().map(|v| num(*v)).collect(),
        head_values: x.head.iter().map(|v| num(*v)).collect(),
    }
}

/// Which p-values Holm's step-down procedure rejects at `level`.
fn holm(p: impl Iterator<Item = f64>, level: f64) -> Vec<bool> {
    let p: Vec<f64> = p.collect();
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len();
    let mut rejected = vec![false; p.len()];
    for (k, &i) in order.iter().enumerate() {
        if p[i] > level / (m - k) as f64 {
            break;
        }
        rejected[i] = true;
    }
    rejected
}

fn judge_one(
    x: &Series,
    s: &GateSettings,
    seed: u64,
    t975: &mut impl FnMut(usize) -> f64,
) -> Judgement {
    let pairs = x.base.len().min(x.head.len());
    let base = median(&x.base);
    let threshold = match x.scale {
        // The smallest change that counts, as a ratio of base's level.
        MetricScale::Ratio if x.ms && base > 0.0 => s.max_regression.max(s.min_delta_ms / base),
        MetricScale::Ratio => s.max_regression,
        MetricScale::Share => s.max_share_change,
    };
    let mut j = Judgement {
        metric: x.metric.clone(),
        scale: x.scale,
        pairs,
        base,
        head: median(&x.head),
        change: f64::NAN,
        low: f64::NAN,
        high: f64::NAN,
        noise_floor: f64::NAN,
        threshold,
        p_regressed: f64::NAN,
        p_improved: f64::NAN,
        call: GateCall::Inconclusive,
        reason: GateReason::TooFewBlocks,
    };
    if pairs < MIN_PAIRS {
        return j;
    }
    let ratio = x.scale == MetricScale::Ratio;
    if x.base.iter().chain(&x.head).any(|v| v.is_nan()) {
        j.reason = GateReason::Missing;
        return j;
    }
    if ratio && x.base.iter().chain(&x.head).any(|v| *v <= 0.0) {
        j.reason = GateReason::NotPositive;
        return j;
    }
    let lift = |v: f64| if ratio { v.ln() } else { v };
    // Back from d's units to the change's.
    let unlift = |d: f64| if ratio { d.exp() - 1.0 } else { d };
    let (b, h): (Vec<f64>, Vec<f64>) = (
        x.base[..pairs].iter().map(|v| lift(*v)).collect(),
        x.head[..pairs].iter().map(|v| lift(*v)).collect(),
    );
    let d: Vec<f64> = h.iter().zip(&b).map(|(h, b)| h - b).collect();
    let n = pairs as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let tau = lift_threshold(threshold, ratio);
    let df = n - 1.0;
    // One-sided p-values that the mean lies above (or below) `edge`; with no spread
    // the mean is exact, and either holds or does not.
    let se = sd / n.sqrt();
    let p_beyond = |t: f64, holds: bool| {
        if sd > 0.0 {
            tdist::upper_tail(t, df)
        } else if holds {
            0.0
        } else {
            1.0
        }
    };
    j.p_regressed = p_beyond((mean - tau) / se, mean > tau);
    j.p_improved = p_beyond((-tau - mean) / se, mean < -tau);
    let (low, high) = bootstrap(&d, s.resamples, seed);
    j.change = unlift(mean);
    j.low = unlift(low);
    j.high = unlift(high);
    // What the pairing leaves: the spread of the pairs' differences about their mean.
    j.noise_floor = unlift(t975(pairs - 1) * se);
    // Judged: `judge` makes the call, over the whole family.
    j.reason = GateReason::Interval;
    j
}

/// The threshold in `d`'s units: a ratio's logarithm, a share's points.
fn lift_threshold(threshold: f64, ratio: bool) -> f64 {
    if ratio {
        (1.0 + threshold).ln()
    } else {
        threshold
    }
}

/// The 2.5th and 97.5th percentiles of the mean of `d` resampled with replacement.
/// SplitMix64 draws the indices: repeatable from the seed, and cheap enough that a
/// thousand synthetic gates run in a unit test.
fn bootstrap(d: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let n = d.len();
    let mut means: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            (0..n)
                .map(|_| d[((u128::from(next()) * n as u128) >> 64) as usize])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * means.len() as f64) as usize).min(means.len() - 1)];
    (at(0.025), at(0.975))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}
