//! Helpers for the chaos suite: a native environment, probes through the fault layer,
//! and `harness chaos` run as users run it, one run at a time.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use harness::environment::{BackendChoice, EnvConfig, Environment};

pub use crate::support::{read_json, results, text, ONE_AT_A_TIME};

/// A native environment.
pub async fn env() -> Environment {
    Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        ..EnvConfig::default()
    })
    .await
    .expect("environment")
}
/// Whether Redis answers PING within 2 s.
pub async fn redis_ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let attempt = async {
        let mut c = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut c).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Some(_))
    )
}

/// The status of one Messages API call (0: no answer in 5 s).
pub async fn llm_status(url: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&serde_json::json!({"model": "m", "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}]}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// `harness chaos ARGS` (debug SUT, reports in `reports`); returns its output.
pub async fn harness_chaos(backend: &str, args: &[&str], reports: &Path) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("chaos")
        .args(["--backend", backend, "--sut-build", "debug"])
        .arg("--reports")
        .arg(reports)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(1500), cmd.output())
        .await
        .expect("harness chaos finished within 25 minutes")
        .expect("harness runs")
}

/// `examples/no_fallback_sut`, which `cargo test` builds beside this suite.
pub fn no_fallback_sut() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/chaos-<hash> → target/<profile>/examples/
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("examples")
        .join("no_fallback_sut");
    assert!(dir.exists(), "{} not built", dir.display());
    dir
}

/// The scored line `name` of a results.json.
pub fn outcome<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["budgets"]
        .as_array()
        .and_then(|b| b.iter().find(|o| o["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in the results"))
}
