//! `harness run` end to end: the exit codes 0, 1 and 2 with what each must say, results
//! on disk, clean-up when the SUT cannot start, and agreement with the SUT's /metrics.

mod helpers;
mod shards;
#[path = "../support/mod.rs"]
mod support;

use helpers::{count_processes, harness_run, results, text, ONE_AT_A_TIME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_passes_on_the_docker_backend() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = helpers::harness_run_on("docker", &["--scenario", "smoke"], reports.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = results(reports.path());
    assert_eq!(r["target"]["backend"], "docker");
    assert!(
        r["totals"]["requests"].as_u64().unwrap_or(0) > 20,
        "{}",
        r["totals"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_passes_and_writes_results() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_run(&["--scenario", "smoke"], reports.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("PASS"), "{}", text(&out));
    // --quiet: nothing of Goose's own output ("N users hatched.") reaches the terminal.
    assert!(!text(&out).contains("hatched"), "{}", text(&out));
    let r = results(reports.path());
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["verdict"]["exit_code"], 0);
    assert!(
        r["totals"]["requests"].as_u64().unwrap_or(0) > 20,
        "{}",
        r["totals"]
    );
    assert_eq!(r["target"]["backend"], "native");
    for op in [
        "entity_resolver.resolve",
        "response_generator.generate",
        "request_handler.handle_request",
    ] {
        let h = &r["operations"][op];
        assert!(h["count"].as_u64().unwrap_or(0) > 0, "{op}: {h}");
        assert!(!h["hdr"].as_str().unwrap_or("").is_empty());
    }
    assert!(r["timeline"].as_array().is_some_and(|t| !t.is_empty()));
    // Every format lands beside it, and the results match the committed schema.
    let dir = reports.path().join("latest");
    for f in ["report.html", "junit.xml", "summary.md"] {
        let len = std::fs::metadata(dir.join(f)).map_or(0, |m| m.len());
        assert!(len > 1000, "{f}: {len} bytes");
    }
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/schema/results.schema.json"
        ))
        .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&r).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "results.json against its schema: {errors:?}"
    );
    for v in ["harness", "postgres", "redis", "rustc"] {
        assert!(r["machine"]["versions"][v].is_string(), "version of {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmeetable_budget_exits_1_and_is_named() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_run(
        &[
            "--scenario",
            "smoke",
            "--budget",
            "request_handler.handle_request.p95=1ms",
        ],
        reports.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("FAIL") && text(&out).contains("request_handler.handle_request.p95"),
        "{}",
        text(&out)
    );
    let r = results(reports.path());
    assert_eq!(
        r["verdict"]["failed"][0],
        "request_handler.handle_request.p95"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_naming_file_line_or_flag() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.toml");
    std::fs::write(
        &bad,
        "name = \"broken\"\n\n[[transactions]]\nweight = = 3\n",
    )
    .expect("write");
    let out = harness_run(&["--scenario", bad.to_str().expect("utf-8")], dir.path()).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("broken.toml:4: "), "{}", text(&out));

    let out = harness_run(&["--budget", "no.such.budget=1ms"], dir.path()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--budget") && text(&out).contains("no.such.budget"),
        "{}",
        text(&out)
    );

    let out = harness_run(&["--budget", "load.error_rate=fast"], dir.path()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not a rate"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sut_that_fails_to_start_exits_2_with_its_log_and_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let before = (
        count_processes("redis-server"),
        count_processes("postgres -D"),
    );
    let out = harness_run(
        &[
            "--sut-cmd",
            "echo 'fatal: cannot open the frobnicator' >&2; exit 3",
        ],
        reports.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("exited before it was ready") && t.contains("frobnicator"),
        "{t}"
    );
    let after = (
        count_processes("redis-server"),
        count_processes("postgres -D"),
    );
    assert_eq!(before, after, "processes left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_percentiles_agree_with_the_suts_own_metrics() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (env, sut, secret) = helpers::running_reference_sut(dir.path()).await;
    // The smoke mix with no warm-up, so both sides see the same requests.
    let smoke =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/smoke.toml"))
            .expect("smoke.toml");
    let scenario = dir.path().join("agree.toml");
    std::fs::write(&scenario, smoke.replace("warmup = \"1s\"\n", "")).expect("write");
    let out = harness_run(
        &[
            "--scenario",
            scenario.to_str().expect("utf-8"),
            "--sut-url",
            sut.base_url(),
            "--jwt-secret",
            &secret,
        ],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("faults are not available"),
        "{}",
        text(&out)
    );
    let r = results(dir.path());
    let metrics = reqwest::get(format!("{}/metrics", sut.base_url()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for op in [
        "entity_resolver.resolve",
        "context_synthesizer.synthesize",
        "response_generator.generate",
    ] {
        let buckets = helpers::prometheus_buckets(&metrics, op);
        let total = buckets.last().map_or(0, |b| b.1);
        let ours = &r["operations"][op];
        assert_eq!(
            ours["count"].as_u64(),
            Some(total),
            "{op}: sample counts differ"
        );
        for (q, key) in [(0.50, "p50_us"), (0.95, "p95_us"), (0.99, "p99_us")] {
            let rank = (q * total as f64).ceil() as u64;
            let i = buckets.iter().position(|b| b.1 >= rank).expect("bucket");
            let lower = if i == 0 { 0.0 } else { buckets[i - 1].0 };
            let upper = buckets[i].0;
            let v = ours[key].as_f64().unwrap_or(-1.0) / 1e6;
            // HDR keeps 3 significant digits: allow its 0.1% on the bucket edges.
            assert!(
                v >= lower * 0.999 && v <= upper * 1.001,
                "{op} {key}: harness {v:.6}s, /metrics bucket ({lower}, {upper}]"
            );
        }
    }
    sut.stop(std::time::Duration::from_secs(30))
        .await
        .expect("stop sut");
    env.shutdown().await.expect("env shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sut_cmd_runs_an_implementation_with_the_contract_environment() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    // The reference binary, started as a vendor's would be: a shell command that only
    // knows the contract's environment variables.
    let binary = harness::service::build_reference(harness::service::BuildProfile::Debug)
        .await
        .expect("build sut");
    let cmd = format!(
        "test -n \"$DATABASE_URL\" && test -n \"$SUT_SEED_FILE\" && exec '{}'",
        binary.display()
    );
    let out = harness_run(&["--scenario", "smoke", "--sut-cmd", &cmd], reports.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = results(reports.path());
    assert_eq!(r["target"]["kind"], "command");
    assert!(
        r["totals"]["requests"].as_u64().unwrap_or(0) > 20,
        "{}",
        r["totals"]
    );
}

/// The session reports each step to its observer, in order, start before end; a test
/// observes with the recorder where the command line draws bars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_reports_every_step_to_its_observer() {
    use harness::commands::run::{execute, RunOptions};
    use harness::plan::EnvOptions;
    use harness::session::Recorder;
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let plan = RunOptions {
        scenario: "smoke".into(),
        sut_build: harness::service::BuildProfile::Debug,
        reports: reports.path().to_owned(),
        quiet: true,
        env: EnvOptions {
            backend: harness::environment::BackendChoice::Native,
            ..EnvOptions::default()
        },
        ..RunOptions::default()
    }
    .into_plan()
    .expect("plan");
    let seen = Recorder::default();
    let outcome = execute(plan, &seen).await.expect("run");
    assert!(outcome.results.verdict.passed);
    let steps: Vec<String> = seen
        .lines()
        .iter()
        .map(|l| l.split(':').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "start build",
            "end build",
            "start environment",
            "end environment",
            "start warm-up",
            "end warm-up",
            "start load",
            "end load",
            "start scoring",
            "end scoring",
        ]
    );
    assert!(
        seen.lines()[7].ends_with("transactions"),
        "{:?}",
        seen.lines()
    );
}

/// A target that answers `/ready` and `/health`, and holds every other request open
/// without ever answering. Serves until the process ends.
fn hung_target() -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let Ok(mut out) = conn.try_clone() else {
                    return;
                };
                let mut first = String::new();
                if BufReader::new(conn).read_line(&mut first).is_err() {
                    return;
                }
                if first.starts_with("GET /ready") || first.starts_with("GET /health") {
                    let _ = out.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    );
                } else {
                    // Never answers; the client gives up or the test process ends.
                    std::thread::sleep(std::time::Duration::from_secs(600));
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_never_answers_fails_within_the_planned_length_plus_30s() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}", hung_target());
    let began = std::time::Instant::now();
    let out = harness_run(
        &[
            "--scenario",
            "smoke",
            "--sut-url",
            &url,
            "--jwt-secret",
            "s3cret",
        ],
        reports.path(),
    )
    .await;
    let took = began.elapsed();
    // smoke's smoke profile: 10 s of load.
    assert!(
        took < std::time::Duration::from_secs(10 + 30),
        "took {took:?}: {}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = results(reports.path());
    assert_eq!(
        r["totals"]["error_rate"].as_f64(),
        Some(1.0),
        "{}",
        r["totals"]
    );
    let cut = r["load"]["cut"].as_u64().unwrap_or(0);
    assert!(
        cut >= 1 && r["totals"]["statuses"]["timeout"].as_u64() == Some(cut),
        "{}",
        r["totals"]
    );
    let failed: Vec<&str> = r["verdict"]["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(failed.contains(&"load.error_rate"), "{failed:?}");
    assert!(text(&out).contains("load.error_rate"), "{}", text(&out));
    // Under --quiet the load generator's warnings (one per timed-out request) go to the
    // run's directory, counted in one line, and none reach stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("WARN"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("the load generator logged"))
        .unwrap_or_else(|| panic!("no count of the generator's lines: {stderr}"));
    let n: usize = line
        .split("logged ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let dir = std::fs::canonicalize(reports.path().join("latest")).expect("latest");
    let log = std::fs::read_to_string(dir.join("load-generator.log")).expect("its log");
    assert!(n >= 1 && log.lines().count() >= n, "{line}\n{log}");
    assert!(log.contains("WARN"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_steps_rates_on_one_sut_and_writes_every_format() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Kept for ci/html-check, as the chaos suite keeps its run.
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("capacity-smoke");
    let _ = std::fs::remove_dir_all(&keep);
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.args([
        "capacity",
        "--backend",
        "native",
        "--sut-build",
        "debug",
        "--quiet",
    ])
    .args([
        "--scenario",
        "smoke",
        "--rates",
        "2,6",
        "--step",
        "4s",
        "--warmup",
        "1s",
    ])
    .arg("--reports")
    .arg(&keep)
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(600), cmd.output())
        .await
        .expect("capacity finished within 10 minutes")
        .expect("harness runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("capacity at budget: 6 requests/s"),
        "{}",
        text(&out)
    );
    let dir = keep.join("latest");
    let c: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("capacity.json")).expect("capacity.json"),
    )
    .expect("JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/schema/capacity.schema.json"
        ))
        .expect("schema"),
    )
    .expect("schema JSON");
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(v.is_valid(&c), "capacity.json does not match its schema");
    let steps = c["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    for s in steps {
        let load = s["load"].as_f64().unwrap_or(0.0);
        // An open-model probe offers its rate: Poisson, 8 or 24 sends expected in 4 s.
        let tput = s["throughput_rps"].as_f64().unwrap_or(0.0);
        assert!(tput > load * 0.3 && tput < load * 2.2, "{s}");
        assert_eq!(s["dropped"], 0, "{s}");
        let probe = dir.join(s["results"].as_str().expect("results path"));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&probe).expect("probe results"))
                .expect("probe JSON");
        assert_eq!(r["load"]["model"], "open");
        assert_eq!(r["scenario"]["stages"][0]["rate"].as_f64(), Some(load));
    }
    for f in ["capacity.md", "capacity.html"] {
        let t = std::fs::read_to_string(dir.join(f)).expect(f);
        assert!(t.contains("capacity at budget: 6 requests/s"), "{f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_names_a_bad_flag_and_exits_2() {
    for (args, flag) in [
        (vec!["--rates", "10,five"], "--rates"),
        (vec!["--fault", "flood 3"], "--fault"),
        (vec!["--repeats", "0"], "--repeats"),
        (vec!["--step", "0s"], "--step"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("capacity")
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("harness runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(flag), "{args:?}: {}", text(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realistic_mix_ci_scores_every_section_2_2_budget() {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let out = harness_run(
        &["--scenario", "realistic-mix", "--profile", "ci"],
        reports.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = results(reports.path());
    let budgets = r["budgets"].as_array().expect("budgets");
    let section: Vec<&serde_json::Value> = budgets
        .iter()
        .filter(|b| {
            b["seed"]
                .as_str()
                .is_some_and(|s| s.starts_with("002 §2.2"))
        })
        .collect();
    assert_eq!(section.len(), 21, "every §2.2 budget is in budgets.toml");
    for b in section {
        assert_eq!(b["status"], "pass", "{b}");
    }
    // The feeder reached the SUT: many customers, so the pattern cache missed and hit.
    for op in [
        "pattern_analyzer.analyze_entity",
        "pattern_analyzer.get_cached_patterns",
    ] {
        assert!(
            r["operations"][op]["count"].as_u64().unwrap_or(0) > 20,
            "{op}"
        );
    }
}
