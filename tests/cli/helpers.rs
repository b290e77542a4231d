//! Runs the real `harness` binary and inspects what it leaves behind.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub fn harness() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harness"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.stdin(Stdio::null());
    c
}

/// Runs to completion with a 60 s bound.
pub fn run(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn harness");
    for _ in 0..600 {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("harness did not finish within 60s");
}

/// Containers, processes and directories left by a session (or any, with "").
pub fn leftovers(session: &str) -> Vec<String> {
    let mut found = Vec::new();
    let filter = if session.is_empty() {
        "label=harness.managed=true".to_owned()
    } else {
        format!("label=harness.session={session}")
    };
    if let Ok(out) = Command::new("docker")
        .args(["ps", "-aq", "--filter", &filter])
        .output()
    {
        let ids = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !ids.is_empty() {
            found.push(format!("containers {ids}"));
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
