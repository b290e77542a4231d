//! Runs `harness certify` as a user would, against the reference or the reference with a
//! deliberate breach (`sut-defects`), and reads what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The reference `sut` binary, built once (debug).
pub async fn reference() -> PathBuf {
    static BIN: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    BIN.get_or_init(|| async {
        harness::service::build_reference(harness::service::BuildProfile::Debug)
            .await
            .expect("cargo build --workspace --bin sut")
    })
    .await
    .clone()
}

/// `harness certify ARGS` with its reports in `reports`, on the native backend.
pub fn certify(reports: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("certify")
        .args(args)
        .args(["--backend", "native", "--reports"])
        .arg(reports)
        .output()
        .expect("harness runs")
}

/// The certificate of the latest run in `reports`.
pub fn certificate(reports: &Path) -> Value {
    crate::support::read_json(&reports.join("latest").join("certificate.json"))
}

/// The IDs of the clauses whose verdict is `verdict`, sorted.
pub fn clauses_with(cert: &Value, verdict: &str) -> Vec<String> {
    let mut ids: Vec<String> = cert["clauses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["verdict"] == verdict)
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// The verdict of case `id`.
pub fn case_verdict(cert: &Value, id: &str) -> String {
    cert["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == id)
        .and_then(|c| c["verdict"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

/// Every case that did not pass, with what was observed: for a failure message.
pub fn not_passed(cert: &Value) -> String {
    cert["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["verdict"] != "PASS")
        .map(|c| {
            format!(
                "{} {}: {}{}\n",
                c["verdict"], c["id"], c["observed"], c["reason"]
            )
        })
        .collect()
}

/// A reports directory for one test, under target/tmp so CI can keep it.
pub fn reports(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
