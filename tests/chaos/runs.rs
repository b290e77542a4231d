//! `harness chaos` end to end, as users run it.

use crate::helpers::{
    harness_chaos, no_fallback_sut, outcome, read_json, results, text, ONE_AT_A_TIME,
};

fn seconds_in(r: &serde_json::Value, phase: &str) -> (usize, usize) {
    let p = r["phases"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == phase))
        .expect("phase");
    (
        p["start_s"].as_f64().unwrap_or(0.0) as usize,
        p["end_s"].as_f64().unwrap_or(0.0) as usize,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_failure_gives_templates_opens_the_breaker_and_recovers() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_chaos(
        "native",
        &["--scenario", "chaos-fast", "--llm-fail", "1.0"],
        reports.path(),
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("time to recover:"), "{shown}");
    let r = results(reports.path());
    let fault = &r["phases"][1];
    assert_eq!(fault["name"], "fault");
    assert!(
        fault["template_share"].as_f64().unwrap_or(0.0) >= 0.99,
        "{fault}"
    );
    assert_eq!(
        outcome(&r, "chaos.llm.breaker_stops_calls")["status"],
        "pass"
    );

    // The breaker opening, as the per-second series shows it: LLM calls every second of
    // the baseline, then, once /health says open, no more than the probes.
    let secs = r["chaos"]["seconds"].as_array().expect("series");
    let calls = |t: usize| secs[t]["llm_calls"].as_u64().unwrap_or(0);
    let (b0, b1) = seconds_in(&r, "baseline");
    assert!((b0..b1).all(|t| calls(t) > 0), "baseline calls: {secs:?}");
    let (f0, f1) = seconds_in(&r, "fault");
    let opened = (f0..f1)
        .find(|&t| secs[t]["breaker"] == "open")
        .expect("the breaker never showed open");
    assert!(opened <= f0 + 3, "breaker opened only at {opened} s");
    let after: u64 = (opened + 1..f1).map(calls).sum();
    // chaos-fast: breaker timeout 5 s, so at most one probe per 5 s (each failing probe
    // is a single call).
    let probes = ((f1 - opened) as u64).div_ceil(5);
    assert!(after <= probes, "{after} calls while open, probes {probes}");

    // Recovery: back in the band, and the LLM is called again.
    let ttr = r["chaos"]["time_to_recover_s"].as_f64().expect("recovered");
    let (r0, r1) = seconds_in(&r, "recovery");
    assert!(ttr <= (r1 - r0) as f64, "{ttr}");
    assert!((r1 - 3..r1).all(|t| calls(t) > 0), "no calls at the end");
    assert_eq!(
        r["phases"][2]["health"]["healthy"].as_u64().map(|n| n > 0),
        Some(true)
    );

    // The breaker's alert paged within its bound and cleared, and nothing else paged.
    let alerts = &r["chaos"]["alerts"];
    let breaker = alerts["scores"]
        .as_array()
        .and_then(|s| s.iter().find(|a| a["alert"] == "LlmCircuitBreakerOpen"))
        .unwrap_or_else(|| panic!("no breaker alert: {alerts}"));
    assert_eq!(breaker["role"], "expected", "{breaker}");
    assert!(breaker["detect_s"].as_f64().is_some(), "{breaker}");
    assert!(breaker["clear_s"].as_f64().is_some(), "{breaker}");
    for line in [
        "alerts.LlmCircuitBreakerOpen.detect_s",
        "alerts.LlmCircuitBreakerOpen.clear_s",
        "alerts.false_alarms",
    ] {
        assert_eq!(outcome(&r, line)["status"], "pass", "{line}: {alerts}");
    }
    assert!(shown.contains("LlmCircuitBreakerOpen"), "{shown}");

    // The run's own HTML report shades the fault window on the latency chart.
    let html = std::fs::read_to_string(reports.path().join("latest").join("report.html"))
        .expect("report.html");
    let start = html
        .find("id=\"latency-over-time\"")
        .expect("latency chart");
    let chart = &html[start..start + html[start..].find("</figure>").expect("figure")];
    assert!(
        chart.contains("fault: llm-fail 1 (500)"),
        "fault band label"
    );
    assert!(chart.contains("fill=\"#D62728\""), "fault band");
    // Kept for ci/test, which opens this real run's report in a browser too.
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("chaos-llm-fail");
    std::fs::create_dir_all(&keep).expect("keep dir");
    std::fs::copy(
        reports.path().join("latest").join("results.json"),
        keep.join("results.json"),
    )
    .expect("keep results.json");
}

/// The same fault under an arrival schedule: the phases run, the verdict is the same,
/// and the load really was open: sends kept their rate while the fault changed latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_phases_run_under_an_open_model_load() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_chaos(
        "native",
        &[
            "--scenario",
            "chaos-fast",
            "--profile",
            "open",
            "--llm-fail",
            "1.0",
        ],
        reports.path(),
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = results(reports.path());
    assert_eq!(r["load"]["model"], "open", "{}", r["load"]);
    assert_eq!(r["load"]["dropped"], 0, "{}", r["load"]);
    assert!(
        r["phases"][1]["template_share"].as_f64().unwrap_or(0.0) >= 0.99,
        "{}",
        r["phases"][1]
    );
    assert!(
        r["chaos"]["time_to_recover_s"].as_f64().is_some(),
        "{shown}"
    );
    // 20 requests a second, Poisson: over each phase the mean rate is close to 20
    // whatever the latency did (a closed-model load would slow down with the SUT).
    let secs = r["timeline"].as_array().expect("timeline");
    for phase in ["baseline", "fault", "recovery"] {
        let (a, b) = seconds_in(&r, phase);
        let sent: u64 = secs
            .iter()
            .filter(|s| (a..b).contains(&(s["t"].as_u64().unwrap_or(0) as usize)))
            .map(|s| s["requests"].as_u64().unwrap_or(0))
            .sum();
        let rate = sent as f64 / (b - a) as f64;
        assert!((15.0..=25.0).contains(&rate), "{phase}: {rate}/s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_implementation_without_a_fallback_fails_and_is_named() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let cmd = no_fallback_sut().display().to_string();
    let out = harness_chaos(
        "native",
        &[
            "--scenario",
            "chaos-fast",
            "--llm-fail",
            "1.0",
            "--sut-cmd",
            &cmd,
            // Only the fault phase is judged here: short phases.
            "--baseline",
            "5s",
            "--fault-for",
            "6s",
            "--recovery",
            "6s",
        ],
        reports.path(),
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let verdict = String::from_utf8_lossy(&out.stdout);
    let line = verdict
        .lines()
        .find(|l| l.starts_with("FAIL:"))
        .unwrap_or_else(|| panic!("no verdict line: {verdict}"));
    assert!(line.contains("chaos.llm.template_fallback"), "{line}");
    let r = results(reports.path());
    assert!(r["phases"][1]["statuses"]["502"].as_u64().unwrap_or(0) > 0);
    assert_eq!(outcome(&r, "chaos.llm.template_fallback")["status"], "fail");
    assert_eq!(outcome(&r, "chaos.llm.template_fallback")["measured"], 0.0);
    // It has no /metrics: the run goes on, says so, and its page is missed.
    let unscraped = r["chaos"]["alerts"]["unscraped"].as_str().unwrap_or("");
    assert!(
        unscraped.contains("could not scrape"),
        "{}",
        r["chaos"]["alerts"]
    );
    assert_eq!(
        outcome(&r, "alerts.LlmCircuitBreakerOpen.detect_s")["status"],
        "fail"
    );
}

/// `--matrix` runs its rows in turn and summarises them. One row is enough to prove the
/// summary: every row of the matrix runs against the reference on each CI run as a load
/// case of `harness certify` (RES-1, `tests/certify`), whose test also checks each row's
/// documented verdicts by name; running them here again would take six more minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_runs_its_rows_and_each_degrades_as_documented() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_chaos(
        "auto",
        &[
            "--scenario",
            "chaos-fast",
            "--matrix",
            "--matrix-only",
            "redis-down",
            "--quiet",
        ],
        reports.path(),
    )
    .await;
    let shown = text(&out);
    let summary = std::fs::read_dir(reports.path())
        .expect("reports")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-chaos-matrix.json"))
        .unwrap_or_else(|| panic!("no matrix summary: {shown}"));
    let m = read_json(&summary);
    let rows = m["rows"].as_array().expect("rows");
    let faults: Vec<&str> = rows.iter().filter_map(|r| r["fault"].as_str()).collect();
    assert_eq!(faults, ["redis-down"]);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let row = &rows[0];
    assert_eq!(row["outcome"], "pass", "{row}");
    assert!(row["time_to_recover_s"].is_number(), "{row}");
    // Redis's alert, from a real Prometheus and Alertmanager of the backend's own.
    assert!(row["detect_s"].is_number(), "{row}");
    assert!(row["clear_s"].is_number(), "{row}");
    assert!(shown.contains("detect"), "{shown}");
    // The row's results are the run's own, with Redis's documented verdicts.
    let r = read_json(std::path::Path::new(row["results"].as_str().expect("path")));
    for name in [
        "chaos.redis.error_rate",
        "chaos.redis.health_reports_redis_down",
        "chaos.redis.health_degraded",
        "alerts.RedisDown.detect_s",
        "alerts.RedisDown.clear_s",
        "alerts.false_alarms",
    ] {
        assert_eq!(outcome(&r, name)["status"], "pass", "{name}");
    }
}

#[tokio::test]
async fn bad_values_name_their_flag_before_anything_starts() {
    let reports = tempfile::tempdir().expect("tempdir");
    let cases: &[(&[&str], &str)] = &[
        (&["--llm-fail", "1.5"], "--llm-fail"),
        (&["--llm-fail", "1", "--llm-error", "503"], "--llm-error"),
        (&["--db-latency", "10"], "--db-latency"),
        (&["--bandwidth", "8"], "--on"),
        (&["--slicer", "--on", "kafka"], "--on"),
        (&["--redis-down", "--baseline", "1s"], "--baseline"),
        (&["--redis-down", "--matrix"], "--matrix"),
        (&[], "no fault"),
    ];
    for (args, named) in cases {
        let out = harness_chaos("native", args, reports.path()).await;
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {shown}");
        assert!(
            shown.contains(named),
            "{args:?} should name {named}: {shown}"
        );
    }
}

/// A model stream cut after 3 tokens, under the streaming scenario: the SUT ends each
/// affected stream with an error event (counted by kind, not as a generic error), no
/// stream just stops, each phase has its TTFT and goodput, and the time to recover is
/// judged on goodput too. A third of the clients leave 250 ms after their send, mid-answer
/// (a stream takes about 550 ms): the LLM fake sees their calls cancelled, and the
/// breaker ends closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_model_stream_is_scored_by_kind_with_ttft_and_goodput_per_phase() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_chaos(
        "native",
        &[
            "--scenario",
            "stream-mix",
            "--llm-stream",
            "truncate:3",
            "--slo",
            "ttft=800ms,e2e=5s",
            "--abandon-after",
            "250ms",
            "--abandon-share",
            "33%",
        ],
        reports.path(),
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = results(reports.path());
    let phase = |name: &str| {
        r["phases"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .expect("phase")
    };
    let (baseline, fault, recovery) = (phase("baseline"), phase("fault"), phase("recovery"));
    for p in [&baseline, &fault, &recovery] {
        assert!(
            p["streams"]["ttft"]["count"].as_u64().unwrap_or(0) > 0,
            "{p}"
        );
        assert!(p["goodput"].is_number(), "{p}");
    }
    assert!(
        baseline["goodput"].as_f64().unwrap_or(0.0) >= 0.95,
        "{baseline}"
    );
    // Every stream the cut reached ended in the SUT's error event, none silently.
    let ends = &fault["streams"]["ends"];
    assert!(ends["error"].as_u64().unwrap_or(0) > 0, "{fault}");
    assert_eq!(ends.get("truncated"), None, "{fault}");
    assert_eq!(ends.get("stalled"), None, "{fault}");
    assert!(
        fault["statuses"]["stream-error"].as_u64().unwrap_or(0) > 0,
        "{fault}"
    );
    assert!(fault["goodput"].as_f64().unwrap_or(1.0) < 0.5, "{fault}");
    assert_eq!(outcome(&r, "chaos.stream.no_silent_stop")["status"], "pass");
    assert!(
        r["chaos"]["time_to_recover_s"].is_number(),
        "{}",
        r["chaos"]
    );
    assert!(
        r["chaos"]["recovery_rule"]
            .as_str()
            .unwrap_or("")
            .contains("goodput"),
        "{}",
        r["chaos"]
    );
    // The clients that left cancelled the LLM calls of the streams they left.
    // Over the whole run: `load.abandoned` counts the scored window, the baseline.
    let abandoned: u64 = r["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|p| p["statuses"]["abandoned"].as_u64())
        .sum();
    let cancelled = r["chaos"]["llm_streams"]["cancelled"].as_u64().unwrap_or(0);
    assert!(abandoned > 20, "{abandoned} abandoned: {}", r["load"]);
    assert!(
        cancelled * 2 >= abandoned,
        "{abandoned} clients left mid-answer, {cancelled} LLM streams cancelled"
    );
    assert!(shown.contains("LLM streams: "), "{shown}");
    let seconds = r["chaos"]["seconds"].as_array().expect("seconds");
    let last = seconds.iter().rev().find_map(|s| s["breaker"].as_str());
    assert_eq!(last, Some("closed"), "the breaker at the end");
}
