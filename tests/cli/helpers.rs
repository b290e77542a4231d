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
