//! Streams against a target whose time to first token and inter-token gap are known:
//! every view (the run, the transaction, the seconds merged as a chaos phase merges
//! them, and each as the results file stores it) must read them within 1% + 1 ms,
//! closed model and open.

use std::time::Duration;

use harness::record::{Latency, StreamStats};
use harness::results::StreamEnd;

use super::{helpers, off, percentiles, run_scenario, SERIAL};

/// The percentiles of durations, ms.
fn truth(ds: &[Duration]) -> [f64; 3] {
    let mut h = Latency::new();
    for d in ds {
        h.record(d.as_micros() as u64);
    }
    percentiles(&h)
}

/// Streams `tokens` tokens `gap_ms` apart after a first token `ttft` decides, measures
/// them under `profile`, and checks TTFT and ITL in every view against what the target
/// wrote; up to three runs, as `assert_truth` explains. Returns the last run's TTFT
/// percentiles.
async fn assert_stream_truth(
    name: &str,
    ttft: helpers::Delay,
    gap_ms: u64,
    tokens: u32,
    profile: &str,
    built_ttft: [f64; 3],
) {
    let mut misses = Vec::new();
    for attempt in 1..=3 {
        let (addr, stop) =
            helpers::stream_server(ttft.clone(), Duration::from_millis(gap_ms), tokens).await;
        let out = run_scenario(addr, helpers::stream_scenario(profile), None).await;
        let served = stop.streamed();
        drop(stop);
        let r = &out.recorded;
        assert_eq!(r.totals.errors, 0, "{name}: {:?}", r.totals.statuses);
        assert_eq!(
            r.stream.ends.get(&StreamEnd::Done),
            Some(&r.totals.requests)
        );
        assert_eq!(r.stream.tokens, r.totals.requests * u64::from(tokens));
        let (ttft_truth, gap_truth) = (truth(&served.ttft), truth(&served.gaps));
        let mut phase = StreamStats::default();
        for s in r.seconds.iter().filter_map(|s| s.stream.as_deref()) {
            phase.merge(&StreamStats::from_point(&s.to_point()).expect("a stored second"));
        }
        let stored = StreamStats::from_summary(&r.stream.summary(1.0)).expect("stored");
        let views = [
            ("run", &r.stream),
            ("transaction", &r.streams["get"]),
            ("seconds merged", &phase),
            ("stored", &stored),
        ];
        eprintln!(
            "{name}, run {attempt}: served TTFT {ttft_truth:?} gaps {gap_truth:?}; read TTFT \
             {:?} ITL {:?} TPOT {:?}, {} streams, max late {:?}",
            percentiles(&r.stream.ttft),
            percentiles(&r.stream.itl),
            percentiles(&r.stream.tpot),
            r.stream.streams(),
            r.max_late,
        );
        let miss = off(
            &format!("{name} served TTFT"),
            [ttft_truth[0]; 3],
            [built_ttft[0]; 3],
        )
        .or_else(|| {
            views.iter().find_map(|(view, s)| {
                off(
                    &format!("{name} {view} TTFT"),
                    percentiles(&s.ttft),
                    ttft_truth,
                )
                .or_else(|| {
                    off(
                        &format!("{name} {view} ITL"),
                        percentiles(&s.itl),
                        gap_truth,
                    )
                })
            })
        })
        .or_else(|| {
            // Every stream's mean gap is the gap.
            off(
                &format!("{name} TPOT"),
                percentiles(&r.stream.tpot),
                [gap_ms as f64; 3],
            )
        });
        match miss {
            None => return,
            Some(m) => misses.push(m),
        }
    }
    panic!("three runs in a row missed the truth: {misses:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_streams_read_fixed_and_bimodal_ttft_and_a_fixed_gap_closed_model() {
    let _one = SERIAL.lock().await;
    assert_stream_truth(
        "closed, TTFT 100 ms, gap 20 ms",
        helpers::fixed(100),
        20,
        10,
        "users = 10\nspawn_rate = 10\niterations = 5",
        [100.0; 3],
    )
    .await;
    // Every 10th stream's first token takes 500 ms: p50 50 ms, p95 and p99 500 ms.
    assert_stream_truth(
        "closed, TTFT 50/500 ms, gap 10 ms",
        helpers::bimodal(50, 500),
        10,
        8,
        "users = 10\nspawn_rate = 10\niterations = 10",
        [50.0, 500.0, 500.0],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_streams_read_fixed_and_bimodal_ttft_and_a_fixed_gap_open_model() {
    let _one = SERIAL.lock().await;
    assert_stream_truth(
        "open, TTFT 100 ms, gap 20 ms",
        helpers::fixed(100),
        20,
        10,
        "model = \"open\"\nrate = 40\nduration = \"3s\"",
        [100.0; 3],
    )
    .await;
    assert_stream_truth(
        "open, TTFT 50/500 ms, gap 10 ms",
        helpers::bimodal(50, 500),
        10,
        8,
        "model = \"open\"\nrate = 40\nduration = \"3s\"\narrival = \"poisson\"",
        [50.0, 500.0, 500.0],
    )
    .await;
}
