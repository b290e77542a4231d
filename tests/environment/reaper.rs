//! The reaper: a `harness chaos` killed with SIGKILL (no clean-up of its own) leaves
//! nothing behind 30 s later (Postgres, Redis, Prometheus, Alertmanager, the SUT), on either backend, ten times in a row, while another live
//! session beside it keeps everything it has.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;

use crate::support::ONE_AT_A_TIME;

const TRIALS: u64 = 10;

/// `harness up --json` in the background: a live session, and its id.
async fn live_session(backend: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--backend", backend, "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("harness up");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("harness up ready within 2 minutes")
        .expect("read")
        .expect("a line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let session = info["session"].as_str().expect("session").to_owned();
    (child, session)
}

/// Ends the live session as a user does (SIGTERM), within 60 s.
async fn end(mut child: tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
}

/// Harness containers of sessions other than `live`.
fn containers_besides(live: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["ps", "-a", "--filter", "label=harness.managed=true"])
        .args(["--format", "{{.ID}} {{.Label \"harness.session\"}}"])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.ends_with(live))
        .map(str::to_owned)
        .collect()
}

fn containers_of(session: &str) -> usize {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=harness.session={session}"),
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Postgres, Redis, Prometheus and Alertmanager processes, and temporary directories, of sessions other than
/// `live`: a native service runs in its session's directory.
fn native_besides(live: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let cwd: PathBuf = std::fs::read_link(e.path().join("cwd")).unwrap_or_default();
        let cwd = cwd.display().to_string();
        let service = comm.starts_with("postgres") || comm.starts_with("redis-server");
        if service && cwd.contains("/harness-h") && !cwd.contains(live) {
            found.push(format!("{} {pid} in {cwd}", comm.trim()));
        }
        // Prometheus and Alertmanager name their session's directory in their arguments.
        if comm.starts_with("prometheus") || comm.starts_with("alertmanager") {
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains("/harness-h") && !cmdline.contains(live) {
                found.push(format!("{} {pid}: {cmdline}", comm.trim()));
            }
        }
    }
    for e in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("harness-h") && !name.contains(live) {
            found.push(format!("directory {name}"));
        }
    }
    found
}

/// Starts `harness chaos` on `backend`, kills it with SIGKILL `after` in, and returns
/// how long it took until `left` found nothing (or what it still found after 30 s).
async fn kill_and_wait(
    backend: &str,
    after: Duration,
    left: impl Fn() -> Vec<String>,
) -> Result<Duration, Vec<String>> {
    // A chaos run, so that Prometheus and Alertmanager are among what it leaves.
    let mut run = tokio::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["chaos", "--backend", backend, "--scenario", "chaos-fast"])
        .args(["--redis-down", "--quiet"])
        .args(["--sut-build", "debug", "--reports"])
        .arg(std::env::temp_dir().join("reaper-test-reports"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("harness chaos");
    tokio::time::sleep(after).await;
    run.start_kill().expect("SIGKILL");
    let _ = run.wait().await;
    let killed = Instant::now();
    loop {
        let found = left();
        if found.is_empty() {
            return Ok(killed.elapsed());
        }
        if killed.elapsed() > Duration::from_secs(30) {
            return Err(found);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the live session runs: its containers, or its Postgres server and Redis (the
/// processes Postgres forks come and go by themselves).
fn live_count(backend: &str, session: &str) -> usize {
    match backend {
        "docker" => containers_of(session),
        _ => std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                let server = cmdline.contains("pgdata") || cmdline.contains("redis-server");
                server
                    && std::fs::read_link(e.path().join("cwd"))
                        .is_ok_and(|c| c.display().to_string().contains(session))
            })
            .count(),
    }
}

/// SUT processes: the killed run's must die with it.
fn suts() -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-x", "sut"])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|p| format!("sut {p}"))
        .collect()
}

async fn trials(backend: &str, left: impl Fn(&str) -> Vec<String>) {
    let (live, session) = live_session(backend).await;
    let running = live_count(backend, &session);
    assert!(running >= 2, "{backend}: the live session runs {running}");
    let mut times = Vec::new();
    for k in 0..TRIALS {
        // From start-up to mid-load: 3 s to 12 s in.
        let after = Duration::from_millis(3000 + k * 1000);
        let found = || {
            let mut f = left(&session);
            f.extend(suts());
            f
        };
        match kill_and_wait(backend, after, found).await {
            Ok(t) => times.push(t),
            Err(found) => {
                end(live).await;
                panic!("{backend}, trial {k} (SIGKILL {after:?} in): after 30 s {found:?}");
            }
        }
    }
    let still = live_count(backend, &session);
    end(live).await;
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("reaper-test-reports"));
    eprintln!("{backend}: {TRIALS} of {TRIALS} clean, in {times:?}");
    assert_eq!(
        still, running,
        "the live session {session} lost some of its services"
    );
    assert!(
        left("-").is_empty(),
        "the live session left {:?}",
        left("-")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_docker_run_leaves_no_container_and_a_live_session_keeps_its_own() {
    let _one = ONE_AT_A_TIME.lock().await;
    trials("docker", containers_besides).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_native_run_leaves_no_process_or_directory() {
    let _one = ONE_AT_A_TIME.lock().await;
    trials("native", native_besides).await;
}
