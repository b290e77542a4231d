//! The gate's human-facing outputs, snapshotted, from a gate of known blocks: one
//! metric 20% slower on head, one unchanged, one share, the cost, and a pair left out.

use super::*;
use crate::results::{
    BlockExclusion, GateBlock, GateSettingsInfo, GateSide, GateStop, GateSubject,
    InconclusivePolicy,
};
use crate::scoring::gate::{judge, stated, GateSettings, Series};

/// A gate of 5 pairs (the third left out) with known values.
pub(crate) fn known() -> GateReport {
    let wobble = [1.0, 1.01, 0.99, 1.02, 0.98];
    let series = |metric: &str, scale: MetricScale, base: f64, head: f64| Series {
        metric: metric.into(),
        scale,
        ms: scale == MetricScale::Ratio,
        base: wobble.iter().map(|w| base * w).collect(),
        head: wobble.iter().rev().map(|w| head * w).collect(),
    };
    let all = [
        series("entity_resolver.resolve.p95", MetricScale::Ratio, 1.2, 1.44),
        series("e2e.p95", MetricScale::Ratio, 180.0, 180.5),
        Series {
            metric: "error_rate".into(),
            scale: MetricScale::Share,
            ms: false,
            base: vec![0.0, 0.001, 0.0, 0.0, 0.002],
            head: vec![0.001, 0.0, 0.0, 0.001, 0.0],
        },
    ];
    let settings = GateSettings {
        resamples: 500,
        ..GateSettings::default()
    };
    let judged = judge(&all, &settings);
    let metrics: Vec<GateMetric> = judged.iter().zip(&all).map(|(j, x)| stated(j, x)).collect();
    let cost = series("cpu_ms_per_request", MetricScale::Ratio, 3.0, 3.02);
    let cost = stated(&judge(std::slice::from_ref(&cost), &settings)[0], &cost);
    let mut blocks = Vec::new();
    for pair in 0..6u32 {
        let order = if pair % 2 == 0 {
            [GateSide::Base, GateSide::Head]
        } else {
            [GateSide::Head, GateSide::Base]
        };
        for side in order {
            let index = blocks.len() as u32;
            blocks.push(GateBlock {
                index,
                pair,
                side,
                requests: 400,
                cpu_ms_per_request: Some(3.0),
                machine_busy: Some(0.4),
                others_busy: Some(0.01),
                late: if pair == 2 { 30 } else { 0 },
                max_late_ms: if pair == 2 { 80.0 } else { 1.0 },
                dropped: 0,
                excluded: (pair == 2).then_some(BlockExclusion::GeneratorLate),
                results: format!("block-{index:02}-{}/results.json", side.as_str()),
            });
        }
    }
    let call = crate::scoring::gate::overall(&judged);
    GateReport {
        schema_version: crate::results::GATE_SCHEMA_VERSION,
        harness_version: "0.0.0".into(),
        started_at: "2026-12-06T00:00:00Z".into(),
        duration_s: 412.0,
        method: crate::commands::gate::METHOD.into(),
        machine: crate::results::MachineInfo {
            cores: 2,
            memory_bytes: 24 << 30,
            os: "Linux 6.1".into(),
            git_sha: None,
            versions: Default::default(),
        },
        base: GateSubject {
            command: "target/gate/bin/sut-aaaa".into(),
            git_ref: Some("main".into()),
            commit: Some("0123456789abcdef0123".into()),
        },
        head: GateSubject {
            command: "SUT_DEFECT=entity-resolution-slow exec ./sut-defects".into(),
            git_ref: None,
            commit: None,
        },
        settings: GateSettingsInfo {
            scenario: "seed-mix".into(),
            rate: 20.0,
            warmup_s: 3.0,
            block_s: 20.0,
            max_regression: 0.05,
            min_delta_ms: 0.05,
            max_share_change: 0.01,
            alpha: 0.05,
            looks: 4,
            min_pairs: 4,
            max_pairs: 10,
            max_duration_s: 600.0,
            resamples: 500,
            seed: 1,
            inconclusive: InconclusivePolicy::Fail,
        },
        blocks,
        looks: vec![(4, GateCall::Inconclusive), (5, call)],
        stopped: GateStop::Decided,
        metrics,
        cost,
        call,
    }
}

#[test]
fn the_known_gate_regresses_on_the_slowed_metric_only() {
    let g = known();
    let calls: Vec<(&str, GateCall)> = g
        .metrics
        .iter()
        .map(|m| (m.metric.as_str(), m.call))
        .collect();
    assert_eq!(calls[0].1, GateCall::Regressed, "{calls:?}");
    assert!(
        calls[1..].iter().all(|c| c.1 != GateCall::Regressed),
        "{calls:?}"
    );
    assert_eq!(g.call, GateCall::Regressed);
    assert_eq!(g.outcome(), crate::exit::Outcome::Failed);
}

#[test]
fn terminal_snapshot() {
    insta::assert_snapshot!(render(&known()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(String::from_utf8_lossy(&Markdown.render(&known())));
}

#[test]
fn html_draws_every_metric_and_marks_the_left_out_pair() {
    let g = known();
    let html = String::from_utf8_lossy(&Html.render(&g)).into_owned();
    let metrics = g.metrics.len() + 1;
    // Two charts a metric: its blocks and its interval, each a figure the page's own
    // check counts once drawn.
    assert!(html.contains(&format!("data-charts=\"{}\"", 2 * metrics)));
    assert_eq!(
        html.matches("<figure class=\"chart\"><svg").count(),
        2 * metrics
    );
    // Each metric's left-out pair: two hollow points.
    assert_eq!(html.matches("fill=\"none\"").count(), 2 * metrics);
    assert!(html.contains("class=\"regressed\""));
}

#[test]
fn json_round_trips() {
    let g = known();
    let bytes = Json.render(&g);
    let back: GateReport = serde_json::from_slice(&bytes).expect("reads back");
    assert_eq!(back, g);
}
