//! The load and recording pipeline against targets of known latency: what it reports
//! must be the truth. Fixed and independent bimodal latency hold nothing back, so both
//! views must read the target's own latency within 1% + 1 ms, closed model and open.
//! A stall holds requests back: the view budgets score must read what a constant-rate
//! schedule at the same mean rate would see, within 10%, computed here from that
//! schedule, and the raw closed-model view must understate it.

mod helpers;
mod stream;

use std::time::{Duration, Instant};

use harness::load::{self, LoadOutcome, LoadPlan, LoadShape};
use harness::record::Recorded;
use helpers::Delay;

/// Closed and open runs must not overlap: Goose keeps process-wide state (its Ctrl-C
/// kill switch), and two generators on 2 cores would each make the other late.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the truth scenario (`think`, `profile`) against `addr`.
async fn measure(addr: std::net::SocketAddr, think: &str, profile: &str) -> LoadOutcome {
    measure_abandoning(addr, think, profile, None).await
}

/// [`measure`], with clients that abandon as `abandon` says.
async fn measure_abandoning(
    addr: std::net::SocketAddr,
    think: &str,
    profile: &str,
    abandon: Option<load::Abandon>,
) -> LoadOutcome {
    run_scenario(addr, helpers::scenario(think, profile), abandon).await
}

/// Runs the profile `truth` of `scenario` against `addr`, as a run does.
async fn run_scenario(
    addr: std::net::SocketAddr,
    scenario: harness::scenario::Scenario,
    abandon: Option<load::Abandon>,
) -> LoadOutcome {
    let shape = LoadShape::settle(scenario.profile("truth").expect("profile"));
    let base_url = format!("http://{addr}");
    // As a run does: the open model's connections are opened before the clock starts.
    let connections = load::connect(&base_url, &shape).await.expect("connect");
    load::run(LoadPlan {
        scenario,
        shape,
        base_url,
        mint: Box::new(|_| String::new()),
        epoch: Instant::now(),
        chatter: load::Chatter::Silenced,
        feeder: None,
        abandon,
        shard: load::Shard::WHOLE,
        connections,
        slo: None,
    })
    .await
    .expect("load")
}

/// p50, p95 and p99 in ms.
fn percentiles(h: &harness::record::Latency) -> [f64; 3] {
    [50.0, 95.0, 99.0].map(|q| h.percentile_us(q) as f64 / 1000.0)
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
                    "{name} {q}: reported {r:.3} ms, truth {t:.3} ms, tolerance ±{tolerance:.2} ms"
                )
            })
        })
}

/// The percentiles of what the target served, as it timed itself.
fn served(stop: &helpers::Stop) -> [f64; 3] {
    let mut h = harness::record::Latency::new();
    for d in stop.served() {
        h.record(d.as_micros() as u64);
    }
    percentiles(&h)
}

/// Measures a target of known latency up to three times, until one run reports the
/// truth in both views with nothing backfilled. The truth is what the target served, as
/// it timed each answer itself, and its median must be the latency it was built with.
/// What this checks is the pipeline (timing, recording, correction, percentiles), not
/// the machine: on a busy 2-core machine the scheduler wakes a sleeping thread 3-20 ms
/// late now and then, which moves p95 and p99 of what is served (CI read p95 204.7 ms
/// for 200 ms in three runs in a row, at real-time priority). Such an answer is late
/// for any client, and the harness must read it as late. A bias in the pipeline (a
/// constant added, slow answers lost or backfilled) moves every run, and still fails.
async fn assert_truth(name: &str, delay: Delay, think: &str, profile: &str, built: [f64; 3]) {
    let mut misses = Vec::new();
    for attempt in 1..=3 {
        let (addr, stop) = helpers::known_latency_server(delay.clone()).await;
        let out = measure(addr, think, profile).await;
        let truth = served(&stop);
        drop(stop);
        let r = &out.recorded;
        assert_eq!(r.totals.errors, 0, "{name}: {:?}", r.totals.statuses);
        let (corrected, raw) = (
            percentiles(&r.transactions["get"]),
            percentiles(&r.overall_raw),
        );
        eprintln!(
            "{name}, run {attempt}: served {truth:?}, corrected {corrected:?}, raw {raw:?}, \
             {} samples, {} backfilled",
            r.overall_raw.count(),
            r.backfilled
        );
        let miss = off(&format!("{name} served"), [truth[0]; 3], [built[0]; 3])
            .or_else(|| off(&format!("{name} corrected"), corrected, truth))
            .or_else(|| off(&format!("{name} raw"), raw, truth))
            .or_else(|| (r.backfilled > 0).then(|| format!("{name}: {} backfilled", r.backfilled)));
        match miss {
            None => return,
            Some(miss) => misses.push(miss),
        }
    }
    panic!("three runs in a row missed the truth: {misses:#?}");
}

const STALL_MS: u64 = 50;
const STALL_FROM: Duration = Duration::from_secs(3);
const STALL_LEN: Duration = Duration::from_secs(2);

/// What a constant-rate schedule at `rate` a second for `length` sees from the stall
/// target: p95 and p99, ms.
fn schedule_truth(rate: f64, length: Duration) -> [f64; 2] {
    let n = (rate * length.as_secs_f64()).round() as usize;
    let mut h = harness::record::Latency::new();
    for k in 0..n {
        let t = Duration::from_secs_f64(k as f64 / rate);
        h.record(helpers::stall_latency(STALL_MS, STALL_FROM, STALL_LEN, t).as_micros() as u64);
    }
    [
        h.percentile_us(95.0) as f64 / 1e3,
        h.percentile_us(99.0) as f64 / 1e3,
    ]
}

/// `got` is within 10% of `want`.
fn within_10pct(got: f64, want: f64) -> bool {
    (got - want).abs() <= want * 0.10
}

/// Runs the stall target under `think`/`profile` lasting `length`, and checks the view
/// budgets score against the constant-rate schedule at the run's mean rate. Returns the
/// raw p95 and the schedule's p95.
async fn assert_stall(name: &str, think: &str, profile: &str, length: Duration) -> (f64, f64) {
    let delay = helpers::stall(STALL_MS, STALL_FROM, STALL_LEN);
    let (addr, stop) = helpers::known_latency_server(delay).await;
    let out = measure(addr, think, profile).await;
    drop(stop);
    let r: &Recorded = &out.recorded;
    let rate = r.overall_raw.count() as f64 / length.as_secs_f64();
    let [want95, want99] = schedule_truth(rate, length);
    let [_, got95, got99] = percentiles(&r.transactions["get"]);
    let [_, raw95, _] = percentiles(&r.overall_raw);
    eprintln!(
        "{name}: {rate:.1}/s; schedule p95 {want95:.0} p99 {want99:.0} ms; corrected p95 \
         {got95:.0} p99 {got99:.0} ms ({} backfilled); raw p95 {raw95:.0} ms",
        r.backfilled
    );
    assert!(
        within_10pct(got95, want95) && within_10pct(got99, want99),
        "{name}: p95/p99 {got95:.0}/{got99:.0} ms, the schedule sees {want95:.0}/{want99:.0} ms"
    );
    (raw95, want95)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_closed_model_reads_fixed_and_bimodal_latency_as_they_are() {
    let _one = SERIAL.lock().await;
    let think = "{ min = \"100ms\", max = \"200ms\" }";
    assert_truth(
        "closed, fixed 200 ms",
        helpers::fixed(200),
        think,
        "users = 20\nspawn_rate = 20\niterations = 10",
        [200.0, 200.0, 200.0],
    )
    .await;
    // Every 10th request takes 500 ms: p50 is 50 ms, p95 and p99 are 500 ms.
    assert_truth(
        "closed, bimodal 50/500 ms",
        helpers::bimodal(50, 500),
        think,
        "users = 20\nspawn_rate = 20\niterations = 20",
        [50.0, 500.0, 500.0],
    )
    .await;
    // No think time: users send back to back.
    assert_truth(
        "closed, fixed 200 ms, no think time",
        helpers::fixed(200),
        "",
        "users = 10\nspawn_rate = 10\niterations = 30",
        [200.0, 200.0, 200.0],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_closed_model_counts_what_a_stall_held_back() {
    let _one = SERIAL.lock().await;
    let (raw95, want95) = assert_stall(
        "closed, 2 s stall",
        "{ min = \"100ms\", max = \"200ms\" }",
        "users = 20\nspawn_rate = 20\nduration = \"10s\"",
        Duration::from_secs(10),
    )
    .await;
    // Each user saw the stall once: the raw view misses most of it.
    assert!(
        raw95 < want95 / 2.0,
        "raw p95 {raw95:.0} ms vs {want95:.0} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_open_model_reads_the_truth_from_the_intended_send_time() {
    let _one = SERIAL.lock().await;
    assert_truth(
        "open, fixed 200 ms",
        helpers::fixed(200),
        "",
        "model = \"open\"\nrate = 50\nduration = \"5s\"",
        [200.0, 200.0, 200.0],
    )
    .await;
    assert_truth(
        "open, bimodal 50/500 ms",
        helpers::bimodal(50, 500),
        "",
        "model = \"open\"\nrate = 100\nduration = \"5s\"\narrival = \"poisson\"",
        [50.0, 500.0, 500.0],
    )
    .await;
    assert_stall(
        "open, 2 s stall",
        "",
        "model = \"open\"\nrate = 100\nduration = \"10s\"",
        Duration::from_secs(10),
    )
    .await;
}

/// The open model opens a millisecond's worth of its peak rate's connections before its
/// clock starts (at 2,500 a second, 3), says so, and at that rate against a fast target
/// drops nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_opens_its_connections_before_its_clock_and_says_how_many() {
    let _one = SERIAL.lock().await;
    let (addr, stop) = helpers::known_latency_server(helpers::fixed(1)).await;
    let out = measure(addr, "", "model = \"open\"\nrate = 2500\nduration = \"2s\"").await;
    drop(stop);
    let r = &out.recorded;
    assert!(
        out.coordinated_omission
            .contains("3 connections were opened before the schedule's clock started"),
        "{}",
        out.coordinated_omission
    );
    assert_eq!(r.totals.requests, 5000);
    assert_eq!(r.dropped, 0, "{:?}", r.totals.statuses);
    assert_eq!(r.totals.statuses.get("200"), Some(&5000));
}

/// A dispatcher that starts behind its schedule (here 1,000 sends due at once) lets the
/// workers take their answers between sends, on one thread as on a pinned core. Sending
/// the whole backlog first left no worker idle and opened a connection per send, up to
/// the in-flight cap: at 68,000 a second against nginx, 1,000 connections and 2,000
/// sends dropped in the first second.
#[tokio::test(flavor = "current_thread")]
async fn open_model_behind_its_schedule_does_not_open_a_connection_per_send() {
    let _one = SERIAL.lock().await;
    let (addr, stop) = helpers::known_latency_server(helpers::fixed(0)).await;
    let scenario = helpers::scenario("", "model = \"open\"\nrate = 5000\nduration = \"1s\"");
    let shape = LoadShape::settle(scenario.profile("truth").expect("profile"));
    let base_url = format!("http://{addr}");
    let connections = load::connect(&base_url, &shape).await.expect("connect");
    let out = load::run(LoadPlan {
        scenario,
        shape,
        base_url,
        mint: Box::new(|_| String::new()),
        epoch: Instant::now() - Duration::from_millis(200),
        chatter: load::Chatter::Silenced,
        feeder: None,
        abandon: None,
        shard: load::Shard::WHOLE,
        connections,
        slo: None,
    })
    .await
    .expect("load");
    drop(stop);
    let text = &out.coordinated_omission;
    let in_all: usize = text
        .split(" in all")
        .next()
        .and_then(|before| before.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of connections in: {text}"));
    assert!(
        in_all <= 250,
        "{in_all} connections for a backlog of 1,000: {text}"
    );
    assert_eq!(out.recorded.dropped, 0);
}

#[test]
fn a_miss_names_the_percentile_and_the_tolerance() {
    assert_eq!(off("x", [200.5, 201.0, 202.9], [200.0; 3]), None);
    assert_eq!(
        off("x", [200.5, 201.0, 203.9], [200.0; 3]).as_deref(),
        Some("x p99: reported 203.900 ms, truth 200.000 ms, tolerance ±3.00 ms")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_open_model_counts_sends_over_the_in_flight_cap() {
    let _one = SERIAL.lock().await;
    let (addr, stop) = helpers::known_latency_server(helpers::fixed(200)).await;
    // 50 sends a second for 2 s, at most 2 in flight of 200 ms: room for 10 a second.
    let out = measure(
        addr,
        "",
        "model = \"open\"\nrate = 50\nduration = \"2s\"\nmax_in_flight = 2",
    )
    .await;
    drop(stop);
    let r = &out.recorded;
    assert_eq!(r.totals.requests, 100, "every send is counted");
    assert!((70..=85).contains(&r.dropped), "dropped {}", r.dropped);
    assert_eq!(r.totals.errors, r.dropped);
    assert_eq!(r.totals.statuses.get("dropped"), Some(&r.dropped));
    // Dropped sends have no latency; those made read their 200 ms.
    assert_eq!(r.overall.count(), r.totals.requests - r.dropped);
    assert!((r.overall.percentile_us(50.0) as f64 / 1e3 - 200.0).abs() < 3.0);
}

/// Every 10th request of the bimodal target takes 2 s, the rest 200 ms; every client
/// leaves after 800 ms. So exactly the slow ones are abandoned, none is an error, and
/// what was answered reads 200 ms in every percentile: an abandoned request must neither
/// count as an error nor leave a latency behind. Both models. (At a 50 ms target this
/// machine's wake-up jitter alone, 1–2 ms at the top tenth with or without abandoning,
/// was more than the 1.5 ms tolerance; at 200 ms the tolerance is 3 ms, as for the other
/// truth tests.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_abandoned_requests_are_counted_apart_with_no_latency() {
    let _one = SERIAL.lock().await;
    let leave = load::Abandon {
        after: Duration::from_millis(800),
        share: 1.0,
    };
    for (name, profile) in [
        ("open", "model = \"open\"\nrate = 50\nduration = \"4s\""),
        ("closed", "users = 5\nspawn_rate = 5\nduration = \"4s\""),
    ] {
        // The counts must hold on every run; the percentiles, as in `assert_truth`, on
        // one of three (the scheduler alone makes a wake-up late now and then).
        let mut misses = Vec::new();
        for _ in 1..=3 {
            let (addr, stop) = helpers::known_latency_server(helpers::bimodal(200, 2000)).await;
            let out = measure_abandoning(addr, "", profile, Some(leave)).await;
            // The truth: what the target served to the clients that stayed.
            let mut kept = harness::record::Latency::new();
            for d in stop.served().into_iter().filter(|d| *d < leave.after) {
                kept.record(d.as_micros() as u64);
            }
            drop(stop);
            let r = &out.recorded;
            let sent = r.totals.requests + r.abandoned;
            eprintln!(
                "{name}: {sent} sent, {} abandoned, {:?}",
                r.abandoned, r.totals.statuses
            );
            assert_eq!(r.totals.errors, 0, "{name}: {:?}", r.totals.statuses);
            // The target counts arrivals: one in ten is slow. A send still in flight at
            // the end may be either, so allow one.
            assert!(
                r.abandoned.abs_diff(sent / 10) <= 1,
                "{name}: {} abandoned of {sent}",
                r.abandoned
            );
            assert_eq!(
                r.totals.statuses.get("abandoned"),
                Some(&r.abandoned),
                "{name}"
            );
            assert_eq!(r.overall_raw.count(), r.totals.requests, "{name}");
            let truth = percentiles(&kept);
            let miss = off(&format!("{name} served"), [truth[0]; 3], [200.0; 3])
                .or_else(|| off(name, percentiles(&r.overall_raw), truth));
            match miss {
                None => break,
                Some(miss) => misses.push(miss),
            }
        }
        assert!(misses.len() < 3, "three runs missed the truth: {misses:#?}");
    }
}

/// A run reports its throughput as the requests it scored over its planned window, and
/// the SUT's own counts must match the harness's, so the closed model may not send past
/// its plan. Goose ends its test plan late (its users kept sending for a few hundred ms
/// past it); those sends were scored over the planned window, and 200 users of 1 s
/// streams read as 207 a second, more than they can send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_closed_model_sends_nothing_after_its_planned_window() {
    let _one = SERIAL.lock().await;
    let (addr, stop) = helpers::known_latency_server(helpers::fixed(500)).await;
    let out = measure(addr, "", "users = 200\nspawn_rate = 200\nduration = \"3s\"").await;
    drop(stop);
    let r = &out.recorded;
    let inside: u64 = r.seconds.iter().take(3).map(|s| s.counts.requests).sum();
    let after: u64 = r.seconds.iter().skip(3).map(|s| s.counts.requests).sum();
    eprintln!(
        "{inside} sends inside the 3 s plan, {after} after; {} scored",
        r.totals.requests
    );
    assert_eq!(after, 0, "{after} sends after the plan");
    assert_eq!(r.totals.requests, inside);
    // 200 users, each at most one send each 500 ms: 1,200 in 3 s.
    assert!(inside <= 1_200, "{inside} sends in 3 s; at most 1,200 fit");
}
