use std::time::Duration;

use super::*;
use crate::record::Sample;

fn budget(name: &str, kind: Kind, limit: Limit, users: Option<(u32, u32)>) -> Budget {
    Budget {
        name: name.into(),
        kind,
        limit,
        seed: "test".into(),
        users,
        overridden_by: None,
    }
}

fn recorded(latencies_ms: &[(u64, u64, Option<u16>)]) -> Recorded {
    let mut r = Recorded::default();
    for &(at_s, ms, status) in latencies_ms {
        r.add(
            &Sample {
                transaction: "t".into(),
                at: Duration::from_secs(at_s),
                latency: Duration::from_millis(ms),
                status,
                operations: vec![("op.x".into(), Duration::from_millis(ms / 2))],
                ..Sample::default()
            },
            crate::record::Correction::None,
        );
    }
    r
}

#[test]
fn operation_budgets_pass_fail_and_not_applicable() {
    let rec = recorded(&[(0, 100, Some(200)), (0, 300, Some(200))]);
    let out = score(
        &[
            budget(
                "op.x.p50",
                Kind::Operation,
                Limit::Latency(Duration::from_millis(60)),
                None,
            ),
            budget(
                "op.x.p99",
                Kind::Operation,
                Limit::Latency(Duration::from_millis(100)),
                None,
            ),
            budget(
                "op.y.p99",
                Kind::Operation,
                Limit::Latency(Duration::from_millis(100)),
                None,
            ),
        ],
        &rec,
        &[],
        1,
    );
    assert_eq!(out[0].status, Status::Pass, "{:?}", out[0]);
    assert_eq!(out[1].status, Status::Fail);
    assert!(out[1].margin.is_some_and(|m| m < -0.4));
    assert_eq!(out[2].status, Status::NotApplicable);
    let v = verdict(&out, &[]);
    assert_eq!(
        (v.passed, v.exit_code, v.failed.clone()),
        (false, 1, vec!["op.x.p99".to_owned()])
    );
}

#[test]
fn load_budgets_score_each_stage_in_their_user_range() {
    // Stage 1 (10 users) holds 1–3 s at 100 ms; stage 2 (200 users) holds 5–7 s at 900 ms.
    let mut samples = Vec::new();
    for t in 0..8 {
        let ms = if t < 4 { 100 } else { 900 };
        samples.push((t, ms, Some(200)));
    }
    let rec = recorded(&samples);
    let stages = vec![
        StageInfo {
            users: 10,
            rate: None,
            start_s: 0.0,
            ramp_s: 1.0,
            hold_s: 3.0,
        },
        StageInfo {
            users: 200,
            rate: None,
            start_s: 4.0,
            ramp_s: 1.0,
            hold_s: 3.0,
        },
    ];
    let small = budget(
        "load.small.p95",
        Kind::Load,
        Limit::Latency(Duration::from_millis(500)),
        Some((1, 100)),
    );
    let big = budget(
        "load.big.p95",
        Kind::Load,
        Limit::Latency(Duration::from_millis(500)),
        Some((101, 500)),
    );
    let none = budget(
        "load.huge.p95",
        Kind::Load,
        Limit::Latency(Duration::from_millis(500)),
        Some((501, 900)),
    );
    let out = score(&[small, big, none], &rec, &stages, 200);
    assert_eq!(out[0].status, Status::Pass, "{:?}", out[0]);
    assert_eq!(out[1].status, Status::Fail, "{:?}", out[1]);
    assert!(out[1].detail.contains("200 users"));
    assert_eq!(out[2].status, Status::NotApplicable);
}

#[test]
fn error_rate_and_mean() {
    let rec = recorded(&[(0, 1000, Some(200)), (0, 3000, Some(500)), (0, 2000, None)]);
    let out = score(
        &[
            budget("load.error_rate", Kind::ErrorRate, Limit::Ratio(0.01), None),
            budget(
                "alert.avg_response",
                Kind::Mean,
                Limit::Latency(Duration::from_secs(2)),
                None,
            ),
        ],
        &rec,
        &[],
        1,
    );
    assert_eq!(out[0].measured, Some(2.0 / 3.0));
    assert_eq!(out[0].status, Status::Fail);
    let mean = out[1].measured.unwrap_or_default();
    assert!((mean - 2000.0).abs() < 5.0, "{mean}");
    assert_eq!(out[1].status, Status::Pass);
}
