//! Starting a reaper, and the sweep before an environment starts: what sessions whose
//! owner is gone left behind (containers, temporary directories), never anything of a
//! live session.

use std::path::PathBuf;
use std::time::Duration;

use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};

use super::{start_time, Reaper, ReaperClientError, ROLE_LABEL};
use crate::container::{MANAGED_LABEL, SESSION_LABEL};
use crate::{dockerapi, ImageRef};

/// Label with the harness process that owns a container: `BOOT_ID/PID/START`.
pub const OWNER_LABEL: &str = "harness.owner";

/// The harness program: `HARNESS_BIN`, this program when it is `harness`, or the
/// `harness` beside the test binaries of a cargo build.
fn harness_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HARNESS_BIN") {
        return p.into();
    }
    let me = std::env::current_exe().unwrap_or_else(|_| "harness".into());
    if me.file_stem().is_some_and(|n| n == "harness") {
        return me;
    }
    // target/debug/deps/suite-HASH → target/debug/harness
    me.parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("harness"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "harness".into())
}

/// A reaper process in a session of its own (so neither a terminal's Ctrl-C nor the
/// harness's death ends it), fed through a pipe that closes when the harness dies.
pub async fn process() -> Result<Reaper, ReaperClientError> {
    let bin = harness_binary();
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("reaper")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe and the only thing done between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| ReaperClientError::Spawn(bin.clone(), e))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ReaperClientError::Spawn(
            bin,
            std::io::Error::other("no pipe to the reaper"),
        ));
    };
    // The child is meant to outlive this handle; tokio reaps it once it exits.
    drop(child);
    Ok(Reaper::over(Box::new(stdout), Box::new(stdin)))
}

/// A reaper container from `image` (which must hold the harness binary, as the local
/// Toxiproxy image does), on the host network with the daemon's socket, labelled with
/// the session so that it removes itself last.
pub async fn container(
    session: &str,
    image: &ImageRef,
    timeout: Duration,
) -> Result<Reaper, ReaperClientError> {
    let fail = |e: String| ReaperClientError::Container(e);
    let socket = dockerapi::endpoint()
        .strip_prefix("unix://")
        .map(str::to_owned)
        .ok_or_else(|| fail("the daemon is not on a unix socket".into()))?;
    let port = harness_support::net::free_port().map_err(|e| fail(e.to_string()))?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let c = GenericImage::new(&image.name, &image.tag)
        .with_wait_for(WaitFor::Nothing)
        .with_entrypoint("/usr/local/bin/harness")
        .with_network("host")
        .with_cmd([
            "reaper".to_string(),
            "--listen".into(),
            addr.to_string(),
            "--label".into(),
            format!("{SESSION_LABEL}={session}"),
        ])
        .with_mount(Mount::bind_mount(socket, "/var/run/docker.sock"))
        .with_label(MANAGED_LABEL, "true")
        .with_label(SESSION_LABEL, session)
        .with_label(ROLE_LABEL, "reaper")
        .with_label(OWNER_LABEL, owner())
        .with_startup_timeout(timeout)
        .start()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let conn = loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(c) => break c,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                let _ = c.rm().await;
                return Err(fail(format!("{addr}: {e}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let (r, w) = conn.into_split();
    let mut reaper = Reaper::over(Box::new(r), Box::new(w));
    reaper.container = Some(c);
    Ok(reaper)
}

/// This machine's boot id: pids and start times mean something only within one boot.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The owner label's value for this process.
pub fn owner() -> String {
    let pid = std::process::id();
    let start = i32::try_from(pid).ok().and_then(start_time).unwrap_or(0);
    format!("{}/{pid}/{start}", boot_id())
}

/// Whether the process an owner label names is gone. An owner from another boot is
/// gone; one that cannot be read is taken as alive (never touch what may be live).
fn owner_gone(label: &str) -> bool {
    let mut parts = label.split('/');
    let (Some(boot), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<i32>(), start.parse::<u64>()) else {
        return false;
    };
    boot != boot_id() || start_time(pid) != Some(start)
}

/// The pid a session id (`h<pid hex><6 hex>`) was made by.
fn session_pid(session: &str) -> Option<i32> {
    let hex = session.strip_prefix('h')?;
    let pid = hex.get(..hex.len().checked_sub(6)?)?;
    i32::from_str_radix(pid, 16).ok()
}

/// Removes what sessions whose owner is gone left behind: their containers (where a
/// daemon answers) and their temporary directories. Returns what it removed.
pub async fn sweep(docker: bool) -> Vec<String> {
    let mut removed = Vec::new();
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(session) = name
                .strip_prefix("harness-")
                .and_then(|r| r.split('-').next())
            else {
                continue;
            };
            let gone = session_pid(session).is_some_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
            });
            if gone && std::fs::remove_dir_all(e.path()).is_ok() {
                removed.push(e.path().display().to_string());
            }
        }
    }
    if docker {
        let label = format!("{MANAGED_LABEL}=true");
        for c in dockerapi::containers_with(&label).await.unwrap_or_default() {
            let gone = c.labels.get(OWNER_LABEL).is_some_and(|o| owner_gone(o));
            if gone && dockerapi::remove_container(&c.id).await.is_ok() {
                removed.push(format!("container {}", &c.id[..c.id.len().min(12)]));
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_owner_that_is_provably_gone_is_gone() {
        assert!(!owner_gone(&owner()), "this process is alive");
        let me = std::process::id();
        assert!(owner_gone(&format!("{}/{me}/1", boot_id())), "pid reused");
        assert!(owner_gone(&format!("another-boot/{me}/1")));
        assert!(!owner_gone("garbage"));
        assert_eq!(session_pid("h1a2b00ff00"), Some(0x1a2b));
        assert_eq!(session_pid("hff"), None);
    }
}
