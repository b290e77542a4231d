//! A service process the native backend owns: started with its log in a file, stopped
//! gracefully with a signal, and killed on drop if nobody stopped it.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::environment::EnvError;

/// A running service process.
pub struct ServiceProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// The signal that asks this service for a clean, fast shutdown.
    stop_signal: Signal,
}

impl ServiceProcess {
    /// Spawns `cmd` with stdout and stderr to `log`. The child gets `death_signal` if
    /// the harness dies without cleaning up (even on SIGKILL).
    pub fn spawn(
        name: &'static str,
        mut cmd: Command,
        log: PathBuf,
        stop_signal: Signal,
        death_signal: Signal,
    ) -> Result<Self, EnvError> {
        let out = std::fs::File::create(&log)
            .map_err(|e| EnvError::io(format!("{name}: create log {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| EnvError::io(format!("{name}: log"), e))?;
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
            .map_err(|e| EnvError::io(format!("{name}: spawn"), e))?;
        Ok(ServiceProcess {
            name,
            child,
            log,
            stop_signal,
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `Err` with the exit status if the process has exited.
    pub fn alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited during start-up ({status})", self.name)),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Asks the process to stop, waits up to `grace`, then kills it.
    pub async fn stop(mut self, grace: Duration) -> Result<(), EnvError> {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), self.stop_signal);
            if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
                return Ok(());
            }
            tracing::warn!(service = self.name, "did not stop in time; killing");
        }
        self.child
            .kill()
            .await
            .map_err(|e| EnvError::io(format!("{}: kill", self.name), e))
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        // Not stopped through `stop` (a panic or an early return): ask politely, give
        // it a moment so Postgres can release shared memory, then kill_on_drop acts.
        if let (Ok(None), Some(pid)) = (self.child.try_wait(), self.child.id()) {
            let _ = kill(Pid::from_raw(pid as i32), self.stop_signal);
            for _ in 0..50 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
