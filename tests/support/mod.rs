//! Helpers every suite shares: one run at a time, reading a run's results, both streams
//! of an output, what a session left behind, and the reference built with its
//! deliberate breaches. Each suite includes this module with
//! `#[path = "../support/mod.rs"] mod support;` and uses what it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Serialises harness runs within a suite: each has the machine's two cores to itself,
/// Goose keeps process-wide state, and the leak checks count processes.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// The results.json of the latest run in `reports`.
pub fn results(reports: &Path) -> serde_json::Value {
    read_json(&reports.join("latest").join("results.json"))
}

/// Both streams of an output.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a session left behind: its containers (every harness container with ""), those
/// of `pids` that still run, and its temporary directories.
pub fn leftovers(session: &str, pids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let filter = if session.is_empty() {
        "label=harness.managed=true".to_owned()
    } else {
        format!("label=harness.session={session}")
    };
    if let Ok(out) = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &filter])
        .output()
    {
        let ids = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !ids.is_empty() {
            found.push(format!("containers: {ids}"));
        }
    }
    for pid in pids
        .iter()
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        if Path::new(&format!("/proc/{pid}")).exists() {
            found.push(format!("process {pid}"));
        }
    }
    let prefix = format!("harness-{session}");
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if !session.is_empty() && e.file_name().to_string_lossy().starts_with(&prefix) {
                found.push(format!("directory {}", e.path().display()));
            }
        }
    }
    found
}

/// `sut-defects`: the reference built with its `defects` feature, a separate binary;
/// `--workspace`, like `build_reference`, so that no dependency is built again.
pub fn defects_binary() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let root = harness::service::workspace_dir();
        let mut cargo = Command::new(env!("CARGO"));
        for name in harness::service::cargo_run_vars() {
            cargo.env_remove(name);
        }
        let status = cargo
            .args([
                "build",
                "--workspace",
                "--bin",
                "sut-defects",
                "--features",
                "sut/defects",
            ])
            .current_dir(root)
            .status()
            .expect("cargo");
        assert!(status.success(), "cargo build --bin sut-defects");
        root.join("target/debug/sut-defects")
    })
    .clone()
}
