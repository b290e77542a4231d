//! The load and recording pipeline against targets of known latency: what it reports
//! must be the truth, within 1% + 1 ms.

mod helpers;

use std::time::Duration;

use harness::load::{self, LoadPlan, LoadShape};

/// Runs the truth scenario against `addr` and returns (p50, p95, p99) in ms and the count.
async fn measure(addr: std::net::SocketAddr, users: u32, iterations: u32) -> ([f64; 3], u64) {
    let scenario = helpers::scenario(users, iterations);
    let shape = LoadShape::settle(scenario.profile("truth").expect("profile"));
    let out = load::run(LoadPlan {
        scenario,
        shape,
        base_url: format!("http://{addr}"),
        mint: Box::new(|_| String::new()),
        epoch: std::time::Instant::now(),
        chatter: load::Chatter::Silenced,
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

/// Where `reported` is off from `truth` by more than 1% + 1 ms, if anywhere.
fn off(name: &str, reported: [f64; 3], truth: [f64; 3]) -> Option<String> {
    ["p50", "p95", "p99"]
        .iter()
        .zip(reported)
        .zip(truth)
        .find_map(|((q, r), t)| {
            let tolerance = t * 0.01 + 1.0;
            ((r - t).abs() > tolerance).then(|| {
                format!(
                    "{name} {q}: reported {r:.3} ms, truth {t} ms, tolerance ±{tolerance:.2} ms"
                )
            })
        })
}

/// Measures a target of known latency up to three times, until one run reports the
/// truth. What this checks is the pipeline (timing, recording, percentiles), not the
/// machine: on a busy 2-core machine the scheduler makes about one wake-up in twenty
/// 3-20 ms late, which moves p95 and p99 by as much (seen in CI, and here under three
/// busy loops: p95 204 ms for 200 ms). `ci/test` therefore runs this test at real-time
/// priority, where the same busy machine reads 200.7 ms. A bias in the pipeline moves
/// every run, and still fails.
async fn assert_truth(
    name: &str,
    delay: impl Fn(u64) -> Duration + Send + Sync + Clone + 'static,
    iterations: u32,
    truth: [f64; 3],
) {
    let mut misses = Vec::new();
    for attempt in 1..=3 {
        let (addr, stop) = helpers::known_latency_server(delay.clone()).await;
        let (reported, n) = measure(addr, 10, iterations).await;
        drop(stop);
        assert_eq!(n, u64::from(10 * iterations));
        eprintln!("{name}, run {attempt}: p50/p95/p99 = {reported:?}");
        match off(name, reported, truth) {
            None => return,
            Some(miss) => misses.push(miss),
        }
    }
    panic!("three runs in a row missed the truth: {misses:#?}");
}

// One test, two targets in turn: Goose keeps process-wide state (its Ctrl-C kill
// switch), so two attacks must not share a process at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_percentiles_are_the_truth_within_1pct_plus_1ms() {
    assert_truth(
        "fixed 200 ms",
        |_| Duration::from_millis(200),
        30,
        [200.0, 200.0, 200.0],
    )
    .await;
    // Every 10th request takes 500 ms: p50 is 50 ms, p95 and p99 are 500 ms.
    assert_truth(
        "bimodal 50/500 ms",
        |n| Duration::from_millis(if n % 10 == 9 { 500 } else { 50 }),
        40,
        [50.0, 500.0, 500.0],
    )
    .await;
}

#[test]
fn a_miss_names_the_percentile_and_the_tolerance() {
    assert_eq!(off("x", [200.5, 201.0, 202.9], [200.0; 3]), None);
    assert_eq!(
        off("x", [200.5, 201.0, 203.9], [200.0; 3]).as_deref(),
        Some("x p99: reported 203.900 ms, truth 200 ms, tolerance ±3.00 ms")
    );
}
