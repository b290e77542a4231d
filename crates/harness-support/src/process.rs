//! A child process the harness owns (Postgres, Redis, the SUT): started with its log in
//! a file, stopped gracefully with a signal, killed on drop if nobody stopped it, and
//! killed by the kernel if the harness itself dies.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// A process that exited while it should be starting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} exited during start-up ({how})")]
pub struct Exited {
    /// The process's name.
    pub name: String,
    /// Its exit status.
    pub how: String,
}

/// A running service process.
pub struct ServiceProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// The signal that asks this service for a clean, fast shutdown.
    stop_signal: Signal,
    /// Signals go to the whole process group (for `sh -c` commands and their children).
    group: bool,
}

impl ServiceProcess {
    /// Spawns `cmd` with stdout and stderr to `log`. The child gets `death_signal` if
    /// the harness dies without cleaning up (even on SIGKILL).
    pub fn spawn(
        name: &'static str,
        cmd: Command,
        log: PathBuf,
        stop_signal: Signal,
        death_signal: Signal,
    ) -> io::Result<Self> {
        Self::spawn_with(name, cmd, log, stop_signal, death_signal, false)
    }

    /// Like [`spawn`](Self::spawn), but the child leads a new process group and every
    /// signal goes to the group, so a shell and whatever it started stop together.
    pub fn spawn_group(
        name: &'static str,
        mut cmd: Command,
        log: PathBuf,
        stop_signal: Signal,
        death_signal: Signal,
    ) -> io::Result<Self> {
        cmd.process_group(0);
        Self::spawn_with(name, cmd, log, stop_signal, death_signal, true)
    }

    fn spawn_with(
        name: &'static str,
        mut cmd: Command,
        log: PathBuf,
        stop_signal: Signal,
        death_signal: Signal,
        group: bool,
    ) -> io::Result<Self> {
        let out = std::fs::File::create(&log)
            .map_err(|e| context(e, format!("{name}: create log {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| context(e, format!("{name}: log")))?;
        cmd.stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of
        // the parent; it is the only thing done between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(death_signal).map_err(std::io::Error::from)
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| context(e, format!("{name}: spawn")))?;
        Ok(ServiceProcess {
            name,
            child,
            log,
            stop_signal,
            group,
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// CPU seconds it has used so far, user and system, with its group's when it leads
    /// one (a shell and what it started). `None` off Linux or once it has gone.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.child.id()?;
        if self.group {
            crate::cpu::group_seconds(pid)
        } else {
            crate::cpu::process_seconds(pid)
        }
    }

    /// `Err` with the exit status if the process has exited.
    pub fn alive(&mut self) -> Result<(), Exited> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Exited {
                name: self.name.to_owned(),
                how: status.to_string(),
            }),
            Err(e) => Err(Exited {
                name: self.name.to_owned(),
                how: format!("cannot tell: {e}"),
            }),
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Asks the process to stop, waits up to `grace`, then kills it.
    pub async fn stop(mut self, grace: Duration) -> io::Result<()> {
        if self.child.id().is_some() {
            let _ = self.signal(self.stop_signal);
            if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
                return Ok(());
            }
            tracing::warn!(service = self.name, "did not stop in time; killing");
            if self.group {
                let _ = self.signal(Signal::SIGKILL);
            }
        }
        self.child
            .kill()
            .await
            .map_err(|e| context(e, format!("{}: kill", self.name)))
    }

    /// Sends `signal` without waiting.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        match self.child.id() {
            Some(pid) => {
                let pid = if self.group {
                    -(pid as i32)
                } else {
                    pid as i32
                };
                kill(Pid::from_raw(pid), signal).map_err(io::Error::from)
            }
            None => Ok(()),
        }
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => None,
        }
    }

    /// Where stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        // Not stopped through `stop` (a panic or an early return): ask politely, give
        // it a moment so Postgres can release shared memory, then kill_on_drop acts.
        if let (Ok(None), Some(_)) = (self.child.try_wait(), self.child.id()) {
            let _ = self.signal(self.stop_signal);
            for _ in 0..50 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.group {
                let _ = self.signal(Signal::SIGKILL);
            }
        }
    }
}

fn context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}
