//! `harness chaos --shard`: shard 0 starts the SUT and drives the fault, shard 1 loads
//! the same SUT by its URL, and `harness merge` scores the phases on the whole. The fault
//! must reach the traffic of the shard that did not drive it.

use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::helpers::{harness_chaos, outcome, read_json, text, ONE_AT_A_TIME};

const RUN_ID: &str = "chaos-shards";
const SECRET: &str = "chaos-shard-test-secret-0123456789abcdef";

/// `harness chaos --llm-fail 1.0` as shard `i` of 2, with `target` its own arguments.
async fn shard(i: u32, target: &[String], reports: &Path, at: u64) -> Output {
    let (index, at) = (format!("{i}/2"), format!("@{at}"));
    let mut args = vec![
        "--scenario",
        "chaos-fast",
        "--llm-fail",
        "1.0",
        "--shard",
        &index,
        "--run-id",
        RUN_ID,
        "--jwt-secret",
        SECRET,
        "--quiet",
        "--start-at",
        &at,
    ];
    args.extend(target.iter().map(String::as_str));
    harness_chaos("native", &args, reports).await
}

/// Templates over requests in the seconds `[from, to)` of a results timeline.
fn template_share(r: &serde_json::Value, from: f64, to: f64) -> (u64, u64) {
    let secs = r["timeline"].as_array().expect("timeline");
    secs.iter()
        .filter(|s| {
            let t = s["t"].as_f64().unwrap_or(-1.0);
            t >= from && t < to
        })
        .fold((0, 0), |(tpl, all), s| {
            (
                tpl + s["templated"].as_u64().unwrap_or(0),
                all + s["requests"].as_u64().unwrap_or(0),
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chaos_shards_share_one_fault_and_merge_into_one_verdict() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    let port = harness::net::free_port().expect("free port");
    // Built first, so that the start leaves shard 0 only its environment and the SUT's
    // start-up to fit in (a cold build would take minutes).
    harness::service::build_reference(harness::service::BuildProfile::Debug)
        .await
        .expect("build sut");
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 30;
    let first = vec!["--sut-listen".to_owned(), format!("127.0.0.1:{port}")];
    let second = vec!["--sut-url".to_owned(), format!("http://127.0.0.1:{port}")];
    let (a, b) = tokio::join!(
        shard(0, &first, &reports, at),
        shard(1, &second, &reports, at)
    );
    for (i, out) in [&a, &b].into_iter().enumerate() {
        assert_eq!(out.status.code(), Some(0), "shard {i}: {}", text(out));
    }

    let run = reports.join(RUN_ID);
    let shards = [0, 1].map(|i| read_json(&run.join(format!("shard-{i}/results.json"))));
    for (i, s) in shards.iter().enumerate() {
        assert!(
            s["budgets"].as_array().is_some_and(Vec::is_empty),
            "shard {i} scored"
        );
        assert_eq!(
            s["shard"]["chaos"]["faults"][0], "llm-fail 1 500",
            "shard {i}"
        );
    }
    assert!(
        shards[0]["chaos"]["events"]
            .as_array()
            .is_some_and(|e| e.len() >= 2),
        "shard 0 records applying and removing the fault"
    );
    assert!(shards[1]["chaos"].is_null(), "shard 1 drove nothing");

    let merge = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("merge")
        .arg(&run)
        .arg("--quiet")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("merge runs");
    assert_eq!(merge.status.code(), Some(0), "{}", text(&merge));
    let m = read_json(&run.join("results.json"));
    let requests = |r: &serde_json::Value| r["totals"]["requests"].as_u64().unwrap_or(0);
    assert_eq!(requests(&m), requests(&shards[0]) + requests(&shards[1]));
    assert!(requests(&shards[1]) > 0);

    // The phases, scored on the merged seconds.
    let fault = &m["phases"][1];
    assert_eq!(fault["name"], "fault", "{}", m["phases"]);
    assert!(
        fault["template_share"].as_f64().unwrap_or(0.0) >= 0.99,
        "{fault}"
    );
    // Shard 1's own traffic in the fault phase got templates: the fault shard 0 applied
    // reached requests it never saw.
    let (from, to) = (
        fault["start_s"].as_f64().expect("start"),
        fault["end_s"].as_f64().expect("end"),
    );
    let (tpl, all) = template_share(&shards[1], from, to);
    assert!(all > 0, "shard 1 sent nothing in the fault phase");
    assert!(tpl as f64 / all as f64 >= 0.99, "shard 1: {tpl} of {all}");
    let baseline = &m["phases"][0];
    assert!(
        baseline["template_share"].as_f64().unwrap_or(1.0) < 0.5,
        "{baseline}"
    );

    // Recovery and every chaos expectation, judged on the whole.
    assert!(
        m["chaos"]["time_to_recover_s"].as_f64().is_some(),
        "{}",
        m["chaos"]
    );
    assert_eq!(m["chaos"]["events"], shards[0]["chaos"]["events"]);
    for name in [
        "chaos.llm.template_fallback",
        "chaos.llm.breaker_stops_calls",
    ] {
        assert_eq!(outcome(&m, name)["status"], "pass", "{name}");
    }
    eprintln!(
        "merged {} requests in the scored baseline window (shards {} + {}); fault phase template share {} merged, \
         shard 1 alone {tpl} of {all}; time to recover {} s",
        requests(&m),
        requests(&shards[0]),
        requests(&shards[1]),
        fault["template_share"],
        m["chaos"]["time_to_recover_s"]
    );
    // The alert record is the driving shard's, once, judged again on the merge.
    let alerts = &m["chaos"]["alerts"];
    assert_eq!(
        alerts["notices"], shards[0]["chaos"]["alerts"]["notices"],
        "{alerts}"
    );
    assert!(
        alerts["notices"].as_array().is_some_and(|n| !n.is_empty()),
        "{alerts}"
    );
    for name in [
        "alerts.LlmCircuitBreakerOpen.detect_s",
        "alerts.LlmCircuitBreakerOpen.clear_s",
        "alerts.false_alarms",
    ] {
        assert_eq!(outcome(&m, name)["status"], "pass", "{name}: {alerts}");
    }
    assert_eq!(m["merged"]["shards"], 2);
    assert!(m["merged"]["method"]
        .as_str()
        .is_some_and(|s| s.contains("shard 0, which drove the faults")));
}
