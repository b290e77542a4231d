//! The gate's statistics on synthetic blocks whose truth is known, fixed seeds. A gate
//! here judges 30 metrics over 16 pairs of blocks (the defaults' last look), each
//! block's value drawn with 2% noise (log-normal, so a ratio's noise is symmetric).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

const METRICS: usize = 30;
const PAIRS: usize = 16;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `METRICS` series with noise `sd` (as a share), `shift` applied to head's metric 0.
fn gate(rng: &mut StdRng, sd: f64, shift: f64) -> Vec<Series> {
    (0..METRICS)
        .map(|m| {
            let level = 10.0 * (m + 1) as f64;
            let mut draw = |k: f64| -> Vec<f64> {
                (0..PAIRS)
                    .map(|_| level * k * (sd * normal(rng)).exp())
                    .collect()
            };
            let base = draw(1.0);
            let head = draw(if m == 0 { 1.0 + shift } else { 1.0 });
            Series {
                metric: format!("m{m}"),
                scale: MetricScale::Ratio,
                ms: false,
                base,
                head,
            }
        })
        .collect()
}

/// Fewer resamples than a gate uses, so that 30,000 metrics judge in seconds in a debug
/// build: the calls counted here come from the t-tests, and the intervals only part
/// UNCHANGED from INCONCLUSIVE.
fn settings() -> GateSettings {
    GateSettings {
        resamples: 50,
        ..GateSettings::default()
    }
}

#[test]
fn a_thousand_a_a_gates_say_regressed_at_most_5_percent_of_the_time() {
    let mut rng = StdRng::seed_from_u64(1);
    let (mut regressed, mut inconclusive) = (0, 0);
    for _ in 0..1000 {
        let judged = judge(&gate(&mut rng, 0.02, 0.0), &settings());
        match overall(&judged) {
            GateCall::Regressed => regressed += 1,
            GateCall::Inconclusive => inconclusive += 1,
            _ => {}
        }
    }
    eprintln!("A/A: {regressed} of 1000 gates REGRESSED, {inconclusive} INCONCLUSIVE");
    assert!(
        regressed <= 50,
        "{regressed} of 1000 A/A gates said REGRESSED"
    );
}

/// The same, with no margin at all: the Holm-controlled test alone must hold the gate's
/// error, not the threshold.
#[test]
fn with_no_threshold_a_a_gates_still_say_regressed_at_most_5_percent_of_the_time() {
    let mut rng = StdRng::seed_from_u64(2);
    let s = GateSettings {
        max_regression: 0.0,
        ..settings()
    };
    let regressed = (0..1000)
        .filter(|_| overall(&judge(&gate(&mut rng, 0.02, 0.0), &s)) == GateCall::Regressed)
        .count();
    eprintln!("A/A, no threshold: {regressed} of 1000 gates REGRESSED");
    assert!(
        regressed <= 50,
        "{regressed} of 1000 A/A gates said REGRESSED"
    );
    assert!(
        regressed > 0,
        "the test never fires: the error rate is not what it says"
    );
}

#[test]
fn a_10_percent_shift_in_2_percent_noise_is_found_in_95_percent_of_gates() {
    let mut rng = StdRng::seed_from_u64(3);
    let (mut found, mut elsewhere) = (0, 0);
    for _ in 0..1000 {
        let judged = judge(&gate(&mut rng, 0.02, 0.10), &settings());
        found += usize::from(judged[0].call == GateCall::Regressed);
        elsewhere += usize::from(judged[1..].iter().any(|j| j.call == GateCall::Regressed));
    }
    eprintln!("10% shift: found in {found} of 1000 gates; another metric REGRESSED in {elsewhere}");
    assert!(found >= 950, "found in only {found} of 1000 gates");
    assert!(
        elsewhere <= 50,
        "an unchanged metric REGRESSED in {elsewhere} gates"
    );
}

#[test]
fn a_change_within_the_threshold_is_unchanged_and_noise_above_it_inconclusive() {
    let mut rng = StdRng::seed_from_u64(4);
    let quiet = judge(&gate(&mut rng, 0.005, 0.01), &settings());
    assert_eq!(quiet[0].call, GateCall::Unchanged, "{:?}", quiet[0]);
    assert!((quiet[0].change - 0.01).abs() < 0.005, "{:?}", quiet[0]);
    let loud = judge(&gate(&mut rng, 0.20, 0.0), &settings());
    let noisy = loud
        .iter()
        .filter(|j| j.reason == GateReason::NoiseFloor)
        .count();
    assert!(
        noisy >= METRICS - 2,
        "only {noisy} metrics with 20% noise were INCONCLUSIVE"
    );
    assert!(loud.iter().all(|j| j.call != GateCall::Unchanged));
}

#[test]
fn shares_are_judged_in_points_and_zero_is_a_value() {
    let s = settings();
    let none = Series {
        metric: "error_rate".into(),
        scale: MetricScale::Share,
        ms: false,
        base: vec![0.0; 6],
        head: vec![0.0; 6],
    };
    let worse = Series {
        head: vec![0.05, 0.06, 0.05, 0.04, 0.05, 0.06],
        ..none.clone()
    };
    let judged = judge(&[none, worse], &s);
    assert_eq!(judged[0].call, GateCall::Unchanged, "{:?}", judged[0]);
    assert_eq!(judged[1].call, GateCall::Regressed, "{:?}", judged[1]);
    assert!((judged[1].change - 0.0517).abs() < 1e-3);
}

/// As on a real machine: each pair of blocks shares a state (a cold cache, a busy
/// neighbour) that moves both sides by up to 20%, and within a pair the sides differ
/// by 1% noise. The pairing cancels the shared part, so an A/A gate is decided
/// UNCHANGED, and a 10% slowdown REGRESSED: the noise floor must not count the drift
/// between pairs as noise.
#[test]
fn drift_shared_by_a_pair_is_not_noise() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut decided = 0;
    let mut found = 0;
    for _ in 0..100 {
        let drift: Vec<f64> = (0..PAIRS).map(|_| 0.2 * normal(&mut rng)).collect();
        let mut side = |k: f64| -> Vec<f64> {
            drift
                .iter()
                .map(|d| 10.0 * k * (d + 0.01 * normal(&mut rng)).exp())
                .collect()
        };
        let base = side(1.0);
        let same = side(1.0);
        let slower = side(1.10);
        let series = |head: Vec<f64>| Series {
            metric: "e2e.p95".into(),
            scale: MetricScale::Ratio,
            ms: false,
            base: base.clone(),
            head,
        };
        let aa = judge(&[series(same)], &settings());
        decided += usize::from(aa[0].call == GateCall::Unchanged);
        let ab = judge(&[series(slower)], &settings());
        found += usize::from(ab[0].call == GateCall::Regressed);
    }
    assert!(
        decided >= 95,
        "A/A decided UNCHANGED in only {decided} of 100"
    );
    assert!(found >= 95, "10% found in only {found} of 100");
}

#[test]
fn too_few_pairs_a_zero_latency_or_a_missing_block_is_inconclusive_and_says_why() {
    let s = settings();
    let short = Series {
        metric: "e2e.p95".into(),
        scale: MetricScale::Ratio,
        ms: false,
        base: vec![1.0, 1.0],
        head: vec![2.0, 2.0],
    };
    let zero = Series {
        base: vec![1.0, 0.0, 1.0],
        head: vec![1.0, 1.0, 1.0],
        ..short.clone()
    };
    let missing = Series {
        base: vec![1.0, f64::NAN, 1.0],
        head: vec![1.0, 1.0, 1.0],
        ..short.clone()
    };
    let judged = judge(&[short, zero, missing], &s);
    assert_eq!(judged[0].reason, GateReason::TooFewBlocks);
    assert_eq!(judged[1].reason, GateReason::NotPositive);
    assert_eq!(judged[2].reason, GateReason::Missing);
    assert!(judged.iter().all(|j| j.call == GateCall::Inconclusive));
    assert_eq!(overall(&judged), GateCall::Inconclusive);
}

#[test]
fn holm_steps_down_and_stops_at_the_first_it_keeps() {
    // m = 3 at 0.05: 0.01 <= 0.0167, 0.02 <= 0.025, 0.04 > 0.05? no: 0.04 <= 0.05.
    assert_eq!(
        holm([0.04, 0.01, 0.02].into_iter(), 0.05),
        vec![true, true, true]
    );
    // 0.03 > 0.025 stops the steps: 0.04 is kept though it is under 0.05.
    assert_eq!(
        holm([0.04, 0.01, 0.03].into_iter(), 0.05),
        vec![false, true, false]
    );
}

#[test]
fn a_latency_change_under_min_delta_is_no_change_and_a_larger_one_still_counts() {
    // Six pairs, 2% noise: a 30 µs operation 10% slower (3 µs) and a 1.5 ms one 20%
    // slower (0.3 ms), each judged as a latency with min_delta 50 µs.
    let noise = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0];
    let series = |metric: &str, level: f64, shift: f64| Series {
        metric: metric.into(),
        scale: MetricScale::Ratio,
        ms: true,
        base: noise.iter().map(|n| level * n).collect(),
        head: noise.iter().rev().map(|n| level * shift * n).collect(),
    };
    let s = GateSettings::default();
    let judged = judge(
        &[
            series("tiny.p50", 0.03, 1.10),
            series("entity.p50", 1.5, 1.20),
        ],
        &s,
    );
    // The tiny one's threshold is 50/30 of its level; the entity's stays 5%.
    assert!(
        (judged[0].threshold - 0.05 / 0.03).abs() < 1e-9,
        "{:?}",
        judged[0]
    );
    assert_eq!(judged[0].call, GateCall::Unchanged, "{:?}", judged[0]);
    assert!((judged[1].threshold - 0.05).abs() < 1e-9, "{:?}", judged[1]);
    assert_eq!(judged[1].call, GateCall::Regressed, "{:?}", judged[1]);
    // The same tiny change judged by ratio alone is no longer UNCHANGED.
    let by_ratio = GateSettings {
        min_delta_ms: 0.0,
        ..s
    };
    let alone = judge(&[series("tiny.p50", 0.03, 1.10)], &by_ratio);
    assert_ne!(alone[0].call, GateCall::Unchanged, "{:?}", alone[0]);
}
