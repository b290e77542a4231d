//! Sharded runs: two `harness run --shard I/2` processes against one running SUT, merged
//! by `harness merge` and checked against what is known independently: the SUT's own
//! /metrics counts, and one histogram built here over both shards' samples.

use std::path::Path;
use std::process::Output;

use harness::record::Latency;
use harness::results::{Results, Status};

use crate::helpers::{self, text, ONE_AT_A_TIME};

/// 102 users in all: 51 a shard, so each shard alone is in the 1–100 users range of
/// `load.100_users.p95` and only the whole is in the 101–500 range of
/// `load.500_users.p95`.
const SCENARIO: &str = r#"
name = "shard-truth"
think_time = { min = "1s", max = "2s" }
roles = ["viewer"]
llm_profile = "fast"
[[transactions]]
name = "simple_query"
weight = 1
path = "/api/chat"
body = { query = "What is the status of Delta Industries?", session_id = "shard-{user}" }
[profiles.split]
users = 102
spawn_rate = 102
duration = "10s"
"#;

async fn shard(
    i: u32,
    scenario: &Path,
    url: &str,
    secret: &str,
    reports: &Path,
    at: u64,
) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("run")
        .args(["--scenario", scenario.to_str().expect("utf-8")])
        .args([
            "--profile",
            "split",
            "--sut-url",
            url,
            "--jwt-secret",
            secret,
        ])
        .args([
            "--shard",
            &format!("{i}/2"),
            "--run-id",
            "shard-truth",
            "--quiet",
        ])
        .args(["--start-at", &format!("@{at}")])
        .arg("--reports")
        .arg(reports)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("a shard finished within 2 minutes")
        .expect("harness runs")
}

/// `@secs` as the results write it.
fn rfc3339(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn read(path: &Path) -> Results {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("results")
}

fn decoded(hdr: &str) -> Latency {
    Latency::decode(hdr).expect("histogram")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_against_one_sut_merge_exactly() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (env, sut, secret) = helpers::running_reference_sut(dir.path()).await;
    let scenario = dir.path().join("shard-truth.toml");
    std::fs::write(&scenario, SCENARIO).expect("scenario");
    let reports = dir.path().join("reports");
    let url = sut.base_url().to_owned();
    // Both start their schedule at the same second, a few seconds from now.
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 5;
    let (a, b) = tokio::join!(
        shard(0, &scenario, &url, &secret, &reports, at),
        shard(1, &scenario, &url, &secret, &reports, at)
    );
    for out in [&a, &b] {
        assert_eq!(out.status.code(), Some(0), "{}", text(out));
        assert!(text(out).contains("not scored"), "{}", text(out));
    }
    let run = reports.join("shard-truth");
    let shards = [0, 1].map(|i| read(&run.join(format!("shard-{i}/results.json"))));
    for (i, s) in shards.iter().enumerate() {
        assert_eq!(
            s.shard.as_ref().map(|s| (s.index, s.count)),
            Some((i as u32, 2))
        );
        assert_eq!(s.scenario.users, 51);
        assert!(s.budgets.is_empty(), "a shard scores nothing");
        let start = s.shard.as_ref().and_then(|s| s.start_at.clone());
        assert_eq!(start, Some(rfc3339(at)));
    }

    // Scored on the whole, a budget that only the whole is in the range of fails.
    let merge = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("merge")
        .arg(&run)
        .args(["--budget", "load.500_users.p95=1ms", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("merge runs");
    assert_eq!(merge.status.code(), Some(1), "{}", text(&merge));
    let merged = read(&run.join("results.json"));
    let sum = |f: fn(&Results) -> u64| shards.iter().map(f).sum::<u64>();
    assert_eq!(merged.totals.requests, sum(|r| r.totals.requests));
    assert_eq!(merged.overall.count, sum(|r| r.overall.count));
    assert_eq!(merged.scenario.users, 102);
    assert_eq!(merged.merged.as_ref().map(|m| m.shards), Some(2));

    // One histogram over the union of the samples, built here from the shards' own.
    let mut union = decoded(&shards[0].overall.hdr);
    union.merge(&decoded(&shards[1].overall.hdr));
    for (q, got) in [
        (50.0, merged.overall.p50_us),
        (95.0, merged.overall.p95_us),
        (99.0, merged.overall.p99_us),
    ] {
        assert_eq!(got, union.percentile_us(q), "p{q}");
    }

    // The SUT counted every operation of both shards.
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let op = "entity_resolver.resolve";
    let served = helpers::prometheus_buckets(&metrics, op)
        .last()
        .map_or(0, |b| b.1);
    assert_eq!(merged.operations[op].count, served, "{op}");

    let outcome = |name: &str| {
        merged
            .budgets
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.status)
    };
    assert_eq!(outcome("load.500_users.p95"), Some(Status::Fail));
    assert_eq!(outcome("load.100_users.p95"), Some(Status::NotApplicable));
    assert!(merged
        .verdict
        .failed
        .contains(&"load.500_users.p95".to_owned()));
    // Each shard alone, scored against the same budgets, does not break it.
    let mut budgets = harness::scoring::budgets::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/budgets.toml"
    )))
    .expect("budgets");
    harness::scoring::budgets::apply_override(&mut budgets, "load.500_users.p95", "1ms", "test")
        .expect("override");
    for s in &shards {
        let rec = harness::record::Recorded::from_results(s).expect("decodes");
        let alone = harness::scoring::score(&budgets, &rec, &s.scenario.stages, s.scenario.users);
        let b = alone.iter().find(|b| b.name == "load.500_users.p95");
        assert_eq!(b.map(|b| b.status), Some(Status::NotApplicable));
    }

    sut.stop(std::time::Duration::from_secs(30))
        .await
        .expect("stop sut");
    env.shutdown().await.expect("env shutdown");
}
