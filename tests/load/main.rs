//! The load and recording pipeline against targets of known latency: what it reports
//! must be the truth, within 1% + 1 ms.

mod helpers;

use std::time::Duration;

use harness::load::{self, LoadPlan};

/// Runs the truth scenario against `addr` and returns (p50, p95, p99) in ms and the count.
async fn measure(addr: std::net::SocketAddr, users: u32, iterations: u32) -> ([f64; 3], u64) {
    let scenario = helpers::scenario(users, iterations);
    let profile = scenario.profile("truth").expect("profile").clone();
    let out = load::run(LoadPlan {
        scenario,
        profile,
        base_url: format!("http://{addr}"),
        mint: Box::new(|_| String::new()),
        epoch: std::time::Instant::now(),
        scored_until: None,
    })
    .await
    .expect("load");
    let h = &out.recorded.transactions["get"];
    assert_eq!(out.recorded.errors, 0);
    assert!(out.coordinated_omission.starts_with("not corrected"));
    (
        [50.0, 95.0, 99.0].map(|q| h.percentile_us(q) as f64 / 1000.0),
        h.count(),
    )
}

fn assert_truth(name: &str, reported: [f64; 3], truth: [f64; 3]) {
    for ((q, r), t) in ["p50", "p95", "p99"].iter().zip(reported).zip(truth) {
        let tolerance = t * 0.01 + 1.0;
        assert!(
            (r - t).abs() <= tolerance,
            "{name} {q}: reported {r:.3} ms, truth {t} ms, tolerance ±{tolerance:.2} ms"
        );
    }
}

// One test, two targets in turn: Goose keeps process-wide state (its Ctrl-C kill
// switch), so two attacks must not share a process at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_percentiles_are_the_truth_within_1pct_plus_1ms() {
    let (addr, stop) = helpers::known_latency_server(|_| Duration::from_millis(200)).await;
    let (reported, n) = measure(addr, 10, 30).await;
    drop(stop);
    assert_eq!(n, 300);
    eprintln!("fixed 200 ms: p50/p95/p99 = {reported:?}");
    assert_truth("fixed 200 ms", reported, [200.0, 200.0, 200.0]);

    // Every 10th request takes 500 ms: p50 is 50 ms, p95 and p99 are 500 ms.
    let (addr, _stop) = helpers::known_latency_server(|n| {
        Duration::from_millis(if n % 10 == 9 { 500 } else { 50 })
    })
    .await;
    let (reported, n) = measure(addr, 10, 40).await;
    assert_eq!(n, 400);
    eprintln!("bimodal 50/500 ms: p50/p95/p99 = {reported:?}");
    assert_truth("bimodal 50/500 ms", reported, [50.0, 500.0, 500.0]);
}
