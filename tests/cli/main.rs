//! The CLI suite: bad input gets one clear line and exit 2; `harness up` tears down on
//! SIGINT and SIGTERM.

mod helpers;
mod report;
#[path = "../support/mod.rs"]
mod support;
mod workflows;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use harness::exit::ReadyInfo;
use helpers::{harness, run};
use support::leftovers;

fn assert_one_line_exit_2(out: &std::process::Output, must_name: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(
        lines[0].contains(must_name),
        "'{}' does not name {must_name}",
        lines[0]
    );
}

#[test]
fn unknown_backend_is_one_line_and_exit_2() {
    let mut c = harness();
    c.args(["up", "--backend", "podman"]);
    let out = run(c);
    assert_one_line_exit_2(&out, "--backend");
    assert!(String::from_utf8_lossy(&out.stderr).contains("podman"));
}

#[test]
fn docker_backend_without_a_daemon_is_one_line_and_exit_2() {
    let mut c = harness();
    c.args(["up", "--backend", "docker"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let out = run(c);
    assert_one_line_exit_2(&out, "docker");
}

#[test]
fn native_backend_without_initdb_is_one_line_and_exit_2() {
    let mut c = harness();
    c.args(["up", "--backend", "native"])
        .env("HARNESS_PG_BINDIR", "/nonexistent/pg/bin");
    let out = run(c);
    assert_one_line_exit_2(&out, "initdb");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/pg/bin"));
}

#[test]
fn bad_duration_names_the_flag() {
    let mut c = harness();
    c.args(["up", "--backend", "native", "--startup-timeout", "soon"]);
    assert_one_line_exit_2(&run(c), "--startup-timeout");
}

#[test]
fn an_abandon_share_without_a_time_names_its_flag() {
    let mut c = harness();
    c.args(["chaos", "--llm-fail", "1.0", "--abandon-share", "30%"]);
    assert_one_line_exit_2(&run(c), "--abandon-share");
    let mut c = harness();
    c.args(["run", "--abandon-after", "50ms", "--abandon-share", "2"]);
    assert_one_line_exit_2(&run(c), "--abandon-share");
}

/// Starts `harness up --json`, waits for the ready line, sends `signal`, and checks that
/// it exits 0 and leaves nothing.
fn up_then_signal(backend: &str, signal: nix::sys::signal::Signal) {
    let mut child = harness()
        .args(["up", "--json", "--backend", backend])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(l) => l,
        Err(_) => {
            let _ = child.kill();
            panic!("no ready line within 120s");
        }
    };
    let info: ReadyInfo = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        let _ = child.kill();
        panic!("ready line is not ReadyInfo JSON ({e}): {line}")
    });
    assert_eq!(info.backend, backend);
    for url in [
        &info.postgres_url,
        &info.redis_url,
        &info.llm_url,
        &info.toxiproxy_url,
    ] {
        assert!(url.contains("127.0.0.1"), "{url}");
    }
    // The alert components, which `up` starts unless --no-alerts.
    for url in [&info.prometheus_url, &info.alertmanager_url] {
        assert!(
            url.as_deref().is_some_and(|u| u.contains("127.0.0.1")),
            "{url:?}"
        );
    }
    assert!(leftovers(&info.session, &[])
        .iter()
        .any(|l| l.contains(if backend == "docker" {
            "containers"
        } else {
            "directory"
        })));

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).expect("signal");
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        waited += 1;
        if waited > 600 {
            let _ = child.kill();
            panic!("harness up did not exit within 60s of {signal}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
    let left = leftovers(&info.session, &[]);
    assert!(left.is_empty(), "left behind after {signal}: {left:?}");
    let direct_pg = info
        .direct
        .postgres_url
        .rsplit('@')
        .next()
        .and_then(|s| s.split('/').next())
        .unwrap_or("");
    assert!(
        std::net::TcpStream::connect(direct_pg).is_err(),
        "postgres still listening on {direct_pg}"
    );
}

#[test]
fn up_native_tears_down_on_sigint() {
    up_then_signal("native", nix::sys::signal::Signal::SIGINT);
}

#[test]
fn up_docker_tears_down_on_sigterm() {
    up_then_signal("docker", nix::sys::signal::Signal::SIGTERM);
}
