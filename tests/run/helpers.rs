//! Runs the `harness` binary as users do, one run at a time (Goose keeps process-wide
//! state, and the leak checks count processes).

use std::path::Path;
use std::process::Output;

pub use crate::support::{results, text, ONE_AT_A_TIME};

/// `harness run ARGS` on the native backend with reports in `reports`.
pub async fn harness_run(args: &[&str], reports: &Path) -> Output {
    harness_run_on("native", args, reports).await
}

/// `harness run --backend BACKEND ARGS` with reports in `reports`; returns its output.
pub async fn harness_run_on(backend: &str, args: &[&str], reports: &Path) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("run")
        .args(["--backend", backend, "--sut-build", "debug", "--quiet"])
        .arg("--reports")
        .arg(reports)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(600), cmd.output())
        .await
        .expect("harness run finished within 10 minutes")
        .expect("harness runs")
}

/// Processes whose command line contains `pattern`, other than this test's own.
pub fn count_processes(pattern: &str) -> usize {
    let out = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Starts an environment and the reference SUT (debug build) outside any harness run,
/// for tests that point `--sut-url` at it. Returns both, and the JWT secret.
pub async fn running_reference_sut(
    log_dir: &Path,
) -> (
    harness::environment::Environment,
    harness::service::RunningSut,
    String,
) {
    use harness::environment::{BackendChoice, EnvConfig, Environment};
    use harness::service::{
        build_reference, contract_env, BuildProfile, RunningSut, SutCommand, SutSettings,
    };
    let env = Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        ..EnvConfig::default()
    })
    .await
    .expect("environment");
    let secret = "metrics-agreement".to_owned();
    let settings = SutSettings {
        jwt_secret: secret.clone(),
        seed_file: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.json").into()),
        extra: vec![("SUT_LLM_REQUESTS_PER_MINUTE".into(), "1000000".into())],
    };
    let port = harness::net::free_port().expect("port");
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let vars = contract_env(env.endpoints(), listen, &settings);
    let binary = build_reference(BuildProfile::Debug)
        .await
        .expect("build sut");
    let mut sut = RunningSut::spawn(
        &SutCommand::Binary(binary),
        listen,
        &vars,
        &log_dir.join("sut.log"),
    )
    .expect("spawn sut");
    sut.wait_ready(std::time::Duration::from_secs(60))
        .await
        .expect("ready");
    (env, sut, secret)
}

/// `(le, cumulative count)` of one operation's Prometheus histogram, in order.
pub fn prometheus_buckets(metrics: &str, operation: &str) -> Vec<(f64, u64)> {
    let prefix = format!("operation_duration_seconds_bucket{{operation=\"{operation}\",le=\"");
    metrics
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}
