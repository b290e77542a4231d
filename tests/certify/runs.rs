//! The reference through `harness certify`: CERTIFIED with every case passing, black-box
//! mode, and the selection and verification flags.

use std::time::Instant;

use serde_json::Value;

use crate::helpers::{
    case_verdict, certificate, certify, clauses_with, not_passed, reference, reports,
};
use crate::support::{text, ONE_AT_A_TIME};

const FAST: &str = "jwt_attacks_get_401_or_403";
const MEASURED: &str = "a_request_ends_by_its_deadline_when_the_llm_hangs";

fn validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/schema/certificate.schema.json"
    );
    let schema: Value = crate::support::read_json(std::path::Path::new(path));
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// The acceptance run: the reference at `--level quick`, every case, CERTIFIED, in
/// under 10 minutes. Its certificate stays in target/tmp/certify-reference for
/// ci/html-check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_is_certified_at_quick() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await;
    let dir = reports("certify-reference");
    let product = dir.join("product.toml");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        &product,
        "vendor = \"harness\"\nname = \"reference sut\"\nversion = \"0.1.0\"\n",
    )
    .expect("product");
    let started = Instant::now();
    let out = certify(
        &dir,
        &[
            "--sut-cmd",
            &sut.display().to_string(),
            "--product",
            &product.display().to_string(),
        ],
    );
    let took = started.elapsed();
    let cert = certificate(&dir);
    eprintln!("certify --level quick of the reference: {took:?}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out),
        not_passed(&cert)
    );
    assert!(
        text(&out).contains("harness certify: CERTIFIED"),
        "{}",
        text(&out)
    );
    assert_eq!(cert["outcome"], "CERTIFIED");
    // Every case runs but the capacity search, which is for --level full.
    let cases = harness::certify::cases::ALL.len();
    assert_eq!(cert["expected_cases"], cases);
    assert_eq!(cert["cases_run"], cases - 1);
    assert_eq!(case_verdict(&cert, "capacity_at_budget"), "NOT_RUN");
    assert_eq!(
        clauses_with(&cert, "PASS").len() + 1,
        cert["clauses"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(clauses_with(&cert, "NOT_RUN"), ["PERF-2"]);
    assert_eq!(cert["subject"]["product"]["vendor"], "harness");
    assert_eq!(
        cert["subject"]["binary_sha256"].as_str().map(str::len),
        Some(64)
    );
    let errors: Vec<String> = validator()
        .iter_errors(&cert)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // Evidence: every case that ran kept its exchanges and a command that runs it alone.
    for case in cert["cases"].as_array().into_iter().flatten() {
        assert!(case["reproduce"]
            .as_str()
            .unwrap_or("")
            .ends_with(&format!("--case {}", case["id"].as_str().unwrap_or(""))));
    }
    // The load cases kept their figures: each matrix fault its time to recover, the
    // abandonment run how many requests its clients left.
    let measure = |id: &str, name: &str| -> Option<f64> {
        cert["cases"].as_array()?.iter().find(|c| c["id"] == id)?["measures"]
            .as_array()?
            .iter()
            .find(|m| m["name"].as_str().is_some_and(|n| n.starts_with(name)))?["value"]
            .as_f64()
    };
    for case in harness::certify::cases::ALL.iter() {
        let Some(load) = case.load() else { continue };
        let took = cert["cases"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == case.id.as_str()))
            .map(|c| c["duration_s"].clone());
        eprintln!("{}: {took:?} s", case.id);
        match load {
            harness::certify::cases::LoadCase::Fault(_) => {
                let ttr = measure(&case.id, "time to recover");
                assert!(ttr.is_some_and(f64::is_finite), "{}: {ttr:?}", case.id);
            }
            harness::certify::cases::LoadCase::Abandon => {
                let left = measure(&case.id, "requests abandoned");
                assert!(left.is_some_and(|n| n > 0.0), "{left:?}");
            }
            harness::certify::cases::LoadCase::Budgets => {
                let p95 = measure(&case.id, "request_handler.handle_request.p95");
                assert!(p95.is_some_and(|ms| ms > 0.0), "{p95:?}");
            }
            harness::certify::cases::LoadCase::Capacity => {
                let reason = cert["cases"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["id"] == case.id.as_str()))
                    .map(|c| c["reason"].to_string());
                assert!(
                    reason
                        .as_deref()
                        .is_some_and(|r| r.contains("--level full")),
                    "{reason:?}"
                );
            }
        }
    }
    // The database's and Redis's rows of the matrix were judged by their documented
    // verdicts, each by name (the case passed, so each of them passed); the chaos
    // suite's matrix test runs one row of its own, so these are checked here.
    let documented = [
        (
            "db-latency",
            &[
                "chaos.db.answers_anyway",
                "chaos.db.latency_answers_from_cache",
                "chaos.db.latency_bounded",
                "chaos.db.health_reports_database_down",
            ][..],
        ),
        (
            "db-down",
            &[
                "chaos.db.answers_anyway",
                "chaos.db.health_reports_database_down",
                "chaos.db.health_unhealthy",
            ][..],
        ),
        (
            "redis-down",
            &[
                "chaos.redis.error_rate",
                "chaos.redis.health_reports_redis_down",
                "chaos.redis.health_degraded",
            ][..],
        ),
    ];
    for (fault, names) in documented {
        let id = harness::faults::matrix()
            .find(|f| f.kind() == fault)
            .map(|f| harness::certify::cases::fault_case_id(&f))
            .unwrap_or_else(|| panic!("{fault} is not a row of the matrix"));
        assert_eq!(case_verdict(&cert, &id), "PASS", "{id}");
        for name in names {
            assert!(measure(&id, name).is_some(), "{id}: no {name}");
        }
    }
    assert!(took.as_secs() < 600, "quick took {took:?}");
    for f in ["certificate.html", "certificate.md", "junit.xml"] {
        assert!(dir.join("latest").join(f).is_file(), "{f}");
    }
}

/// `--sut-url` against a running reference: the cases that need nothing but HTTP run
/// and pass, the rest are NOT_RUN with the reason, and it exits 1, never certified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_box_mode_runs_what_it_can_and_never_certifies() {
    use harness::environment::{BackendChoice, EnvConfig, Environment};
    use harness::service::{contract_env, RunningSut, SutCommand, SutSettings};
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await;
    let env = Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        ..EnvConfig::default()
    })
    .await
    .expect("environment");
    let logs = tempfile::tempdir().expect("tempdir");
    let listen =
        std::net::SocketAddr::from(([127, 0, 0, 1], harness::net::free_port().expect("port")));
    let settings = SutSettings {
        jwt_secret: "black-box-secret".into(),
        seed_file: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.json").into()),
        extra: vec![],
    };
    let vars = contract_env(env.endpoints(), listen, &settings);
    let mut running = RunningSut::spawn(
        &SutCommand::Binary(sut),
        listen,
        &vars,
        &logs.path().join("sut.log"),
    )
    .expect("spawn");
    running
        .wait_ready(std::time::Duration::from_secs(60))
        .await
        .expect("ready");

    let dir = reports("certify-black-box");
    let out = certify(
        &dir,
        &[
            "--sut-url",
            running.base_url(),
            "--jwt-secret",
            "black-box-secret",
        ],
    );
    let _ = running.stop(std::time::Duration::from_secs(30)).await;
    env.shutdown().await.expect("shutdown");
    let cert = certificate(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not certifiable in black-box mode"),
        "{}",
        text(&out)
    );
    assert_eq!(cert["subject"]["mode"], "black-box");
    let mut ran = 0;
    for case in harness::certify::cases::ALL.iter() {
        let verdict = case_verdict(&cert, &case.id);
        match case.needs.black_box_reason() {
            None => {
                ran += 1;
                assert_eq!(verdict, "PASS", "{}: {}", case.id, not_passed(&cert));
            }
            Some(_) => assert_eq!(verdict, "NOT_RUN", "{}", case.id),
        }
    }
    assert!(ran >= 10, "only {ran} black-box cases");
    assert_eq!(cert["cases_run"], ran);
    let not_run = cert["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["verdict"] == "NOT_RUN");
    assert!(not_run.is_some_and(|c| c["reason"].as_str().unwrap_or("").contains("--sut-url")));
}

/// `--list` prints every case with its clauses and level, and runs nothing.
#[test]
fn list_prints_every_case_and_runs_nothing() {
    let dir = reports("certify-list");
    let out = certify(&dir, &["--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for case in harness::certify::cases::ALL.iter() {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(case.id.as_str()))
            .unwrap_or_else(|| panic!("{} missing:\n{stdout}", case.id));
        assert!(
            ["MUST", "SHOULD", "INFO"].iter().any(|l| line.contains(l)),
            "{line}"
        );
    }
    assert!(
        stdout.contains("jwt_attacks_get_401_or_403") && stdout.contains("AUTH-2,AUTH-3"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{} cases judge",
            harness::certify::cases::ALL.len()
        )),
        "{stdout}"
    );
    assert!(!dir.exists(), "--list wrote reports");
}

/// `--case` runs only the named cases; the rest are NOT_RUN, so no certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_runs_only_the_named_cases() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await.display().to_string();
    let dir = reports("certify-case");
    let out = certify(
        &dir,
        &["--sut-cmd", &sut, "--case", FAST, "--case", MEASURED],
    );
    let cert = certificate(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(cert["cases_run"], 2);
    assert_eq!(case_verdict(&cert, FAST), "PASS", "{}", not_passed(&cert));
    assert_eq!(
        case_verdict(&cert, MEASURED),
        "PASS",
        "{}",
        not_passed(&cert)
    );
    assert_eq!(case_verdict(&cert, "pii_never_reaches_the_llm"), "NOT_RUN");
    assert!(
        cert["reasons"].to_string().contains("was not run"),
        "{}",
        cert["reasons"]
    );
    // A case that is not in the catalogue is refused before anything starts.
    let out = certify(&dir, &["--sut-cmd", &sut, "--case", "no_such_case"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--case: no case 'no_such_case'"),
        "{}",
        text(&out)
    );
}

/// `--exclude ID --reason TEXT` is recorded, and excluding a MUST case withholds the
/// certificate even when everything that ran passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusion_is_recorded_and_withholds_the_certificate() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await.display().to_string();
    let dir = reports("certify-exclude");
    let why = "our build has no LLM of its own";
    let out = certify(
        &dir,
        &[
            "--sut-cmd",
            &sut,
            "--case",
            FAST,
            "--exclude",
            "pii_never_reaches_the_llm",
            "--reason",
            why,
        ],
    );
    let cert = certificate(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let pii = cert["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == "pii_never_reaches_the_llm")
        .cloned()
        .unwrap_or_default();
    assert_eq!(pii["verdict"], "EXCLUDED");
    assert_eq!(pii["reason"], why);
    assert!(
        clauses_with(&cert, "EXCLUDED").contains(&"DOC-5".to_owned()),
        "{}",
        cert["clauses"]
    );
    assert!(cert["reasons"]
        .to_string()
        .contains("MUST clause DOC-5 has an excluded case"));
    let md = std::fs::read_to_string(dir.join("latest/certificate.md")).expect("md");
    assert!(md.contains(why), "{md}");
    // An exclusion without its reason is refused.
    let out = certify(&dir, &["--sut-cmd", &sut, "--exclude", FAST]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--reason"), "{}", text(&out));
}

/// `certify verify` passes an untouched certificate and catches an edited verdict and
/// an edited measured value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_detects_an_edited_verdict_and_an_edited_measure() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await.display().to_string();
    let dir = reports("certify-verify");
    let out = certify(&dir, &["--sut-cmd", &sut, "--case", MEASURED]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let path = dir.join("latest/certificate.json");
    let verify = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["certify", "verify"])
            .arg(file)
            .output()
            .expect("harness runs")
    };
    let ok = verify(&path);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));

    let original = certificate(&dir);
    let index = original["cases"]
        .as_array()
        .and_then(|a| a.iter().position(|c| c["id"] == MEASURED))
        .expect("the case");
    assert!(
        original["cases"][index]["measures"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "the case records what it measured: {}",
        original["cases"][index]
    );
    for (what, edit) in [
        (
            "a verdict",
            Box::new(|c: &mut Value| c["cases"][index]["verdict"] = "FAIL".into())
                as Box<dyn Fn(&mut Value)>,
        ),
        (
            "a measured value",
            Box::new(|c: &mut Value| {
                let v = c["cases"][index]["measures"][0]["value"]
                    .as_f64()
                    .unwrap_or(0.0);
                c["cases"][index]["measures"][0]["value"] = (v + 0.5).into();
            }),
        ),
    ] {
        let mut edited = original.clone();
        edit(&mut edited);
        let file = dir.join("edited.json");
        std::fs::write(&file, serde_json::to_string_pretty(&edited).expect("json")).expect("write");
        let out = verify(&file);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        assert!(text(&out).contains("ALTERED"), "{what}: {}", text(&out));
    }
    let out = verify(&dir.join("nothing-here.json"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// The processes a certification starts: Postgres, Redis and the subject.
fn started_processes() -> std::collections::BTreeSet<(u32, String)> {
    let mut found = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if matches!(comm, "postgres" | "redis-server" | "sut") {
            found.insert((pid, comm.to_owned()));
        }
    }
    found
}

/// The native backend's session directories.
fn session_dirs() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("harness-"))
        .collect()
}

/// Ctrl-C stops a certification mid-case: exit 2, and nothing it started is left, no
/// process and no session directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_run_and_everything_it_started() {
    use std::process::Stdio;
    use std::time::Duration;
    let _one = ONE_AT_A_TIME.lock().await;
    let sut = reference().await.display().to_string();
    let (before, dirs_before) = (started_processes(), session_dirs());
    let dir = reports("certify-ctrl-c");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "certify",
            "--sut-cmd",
            &sut,
            "--case",
            "jobs_survive_redis_down_and_slow",
        ])
        .args(["--backend", "native", "--reports"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Mid-case: the subject's own instance is up.
    let deadline = Instant::now() + Duration::from_secs(90);
    while !started_processes()
        .difference(&before)
        .any(|(_, comm)| comm == "sut")
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no subject started within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("harness certify did not exit within 60 s of SIGINT");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let left: Vec<_> = started_processes().difference(&before).cloned().collect();
    assert!(left.is_empty(), "left running: {left:?}");
    let dirs: Vec<_> = session_dirs().difference(&dirs_before).cloned().collect();
    assert!(dirs.is_empty(), "left behind: {dirs:?}");
}
