//! The reaper, after testcontainers' Ryuk: a small process (`harness reaper`) that holds
//! a connection from the harness and, when that connection drops without a goodbye,
//! removes everything the harness told it about: the containers with the session's
//! label, its processes and its temporary directory. A harness killed with SIGKILL runs
//! no clean-up of its own; its reaper does, within seconds.
//!
//! Where Docker runs the reaper is a container (from the local Toxiproxy image, which
//! holds the harness binary) with the daemon's socket; on the native backend it is a
//! process in a session of its own, fed through a pipe. The wire is lines of text, each
//! answered `ok`: `label KEY=VALUE`, `pid PID START`, `dir PATH`, and `clear`, the
//! goodbye after a clean shutdown.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{watch, Mutex};

use super::dockerapi;

mod start;
pub use start::{container, owner, process, sweep, OWNER_LABEL};

/// Label of the reaper's own container, which it removes last.
pub const ROLE_LABEL: &str = "harness.role";

/// Something a reaper removes when its owner goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// Every container with this label (`key=value`).
    Label(String),
    /// A process, by pid and start time (so a reused pid is never killed).
    Process {
        /// Its pid.
        pid: i32,
        /// Its start time, in clock ticks since boot (`/proc/PID/stat`, field 22).
        start: u64,
    },
    /// A directory, removed with everything in it.
    Dir(PathBuf),
}

impl Watched {
    /// `pid` as the reaper knows it: with its start time, read now.
    pub fn process(pid: u32) -> Option<Watched> {
        let pid = i32::try_from(pid).ok()?;
        Some(Watched::Process {
            pid,
            start: start_time(pid)?,
        })
    }

    fn line(&self) -> String {
        match self {
            Watched::Label(l) => format!("label {l}\n"),
            Watched::Process { pid, start } => format!("pid {pid} {start}\n"),
            Watched::Dir(d) => format!("dir {}\n", d.display()),
        }
    }

    fn parse(line: &str) -> Option<Watched> {
        let (kind, rest) = line.split_once(' ')?;
        match kind {
            "label" if rest.contains('=') => Some(Watched::Label(rest.to_owned())),
            "pid" => {
                let (pid, start) = rest.split_once(' ')?;
                Some(Watched::Process {
                    pid: pid.parse().ok()?,
                    start: start.parse().ok()?,
                })
            }
            "dir" if rest.starts_with('/') => Some(Watched::Dir(rest.into())),
            _ => None,
        }
    }
}

/// A process's start time, in clock ticks since boot; `None` when it is gone.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it do not.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

/// Why the reaper could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ReaperError {
    /// It could not listen.
    #[error("--listen {0}: cannot listen")]
    Listen(std::net::SocketAddr, #[source] std::io::Error),
    /// Nobody connected in time.
    #[error("no connection within {0:?}")]
    NoOwner(Duration),
}

/// How `harness reaper` serves.
#[derive(Debug, Clone)]
pub struct ReaperOptions {
    /// Listen here (the container); `None`: the owner is on stdin (a process).
    pub listen: Option<std::net::SocketAddr>,
    /// How long after the last connection closed it waits for another.
    pub grace: Duration,
    /// How long it waits for its first connection.
    pub wait: Duration,
    /// Watched from the start: the reaper container's own session label, so that it is
    /// removed even when its owner dies before it could connect.
    pub label: Option<String>,
}

#[derive(Default)]
struct State {
    watched: Vec<Watched>,
    open: usize,
    seen: bool,
}

type Shared = Arc<Mutex<State>>;

/// Reads one owner's lines until it goes; what it registered stays registered.
async fn serve_owner(
    read: impl AsyncRead + Unpin,
    mut write: impl AsyncWrite + Unpin,
    state: Shared,
    changed: watch::Sender<()>,
) {
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = {
            let mut s = state.lock().await;
            if line == "clear" {
                s.watched.clear();
                "ok\n"
            } else if let Some(w) = Watched::parse(&line) {
                s.watched.push(w);
                "ok\n"
            } else {
                "error: not label, pid, dir or clear\n"
            }
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            break;
        }
    }
    state.lock().await.open -= 1;
    let _ = changed.send(());
}

/// Serves until every owner has gone, then removes what they left.
pub async fn serve(o: ReaperOptions) -> Result<(), ReaperError> {
    let state: Shared = Arc::default();
    if let Some(l) = &o.label {
        state.lock().await.watched.push(Watched::Label(l.clone()));
    }
    let (changed, mut seen) = watch::channel(());
    match o.listen {
        None => {
            state.lock().await.open = 1;
            state.lock().await.seen = true;
            tokio::spawn(serve_owner(
                tokio::io::stdin(),
                tokio::io::stdout(),
                state.clone(),
                changed.clone(),
            ));
        }
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| ReaperError::Listen(addr, e))?;
            let (state, changed) = (state.clone(), changed.clone());
            tokio::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    {
                        let mut s = state.lock().await;
                        s.open += 1;
                        s.seen = true;
                    }
                    let (r, w) = conn.into_split();
                    tokio::spawn(serve_owner(r, w, state.clone(), changed.clone()));
                }
            });
        }
    }
    let started = tokio::time::Instant::now();
    loop {
        let (open, was_seen) = {
            let s = state.lock().await;
            (s.open, s.seen)
        };
        if !was_seen && started.elapsed() > o.wait {
            reap(&std::mem::take(&mut state.lock().await.watched)).await;
            return Err(ReaperError::NoOwner(o.wait));
        }
        if was_seen && open == 0 {
            // An owner may reconnect within the grace period.
            tokio::time::sleep(o.grace).await;
            if state.lock().await.open == 0 {
                break;
            }
        }
        let _ = tokio::time::timeout(Duration::from_millis(500), seen.changed()).await;
    }
    let watched = std::mem::take(&mut state.lock().await.watched);
    reap(&watched).await;
    Ok(())
}

/// Removes what `watched` names: processes first (so nothing writes into a directory
/// being removed), then directories, then containers, the reaper's own last.
pub async fn reap(watched: &[Watched]) {
    for w in watched {
        if let Watched::Process { pid, start } = w {
            // Only the process that was registered, never one that reused its pid.
            if start_time(*pid) == Some(*start) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    for w in watched {
        if let Watched::Dir(d) = w {
            // Processes may take a moment to let go of files in it.
            for _ in 0..10 {
                if std::fs::remove_dir_all(d).is_ok() || !d.exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    for w in watched {
        if let Watched::Label(label) = w {
            remove_labelled(label).await;
        }
    }
}

async fn remove_labelled(label: &str) {
    let containers = match dockerapi::containers_with(label).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("reaper: {e}");
            return;
        }
    };
    let (own, others): (Vec<_>, Vec<_>) = containers
        .into_iter()
        .partition(|c| c.labels.get(ROLE_LABEL).is_some_and(|r| r == "reaper"));
    for c in others.iter().chain(&own) {
        if let Err(e) = dockerapi::remove_container(&c.id).await {
            eprintln!("reaper: {e}");
        }
    }
}

/// The harness's end of a reaper connection.
pub struct Reaper {
    write: Box<dyn AsyncWrite + Send + Sync + Unpin>,
    read: tokio::io::Lines<BufReader<Box<dyn AsyncRead + Send + Sync + Unpin>>>,
    /// The reaper's container, when it is one; removed after the goodbye.
    pub(super) container: Option<testcontainers::ContainerAsync<testcontainers::GenericImage>>,
}

/// The reaper could not be started or told something.
#[derive(Debug, thiserror::Error)]
pub enum ReaperClientError {
    /// Its program could not start.
    #[error("start `{0} reaper`")]
    Spawn(PathBuf, #[source] std::io::Error),
    /// Its container could not start.
    #[error("start the reaper container: {0}")]
    Container(String),
    /// It did not answer.
    #[error("the reaper did not acknowledge `{0}`")]
    Unacknowledged(String),
}

impl Reaper {
    /// Connected over `read`/`write`.
    pub(super) fn over(
        read: Box<dyn AsyncRead + Send + Sync + Unpin>,
        write: Box<dyn AsyncWrite + Send + Sync + Unpin>,
    ) -> Self {
        Reaper {
            write,
            read: BufReader::new(read).lines(),
            container: None,
        }
    }

    /// Tells the reaper to remove `w` if the harness goes; returns once it has noted it.
    pub async fn watch(&mut self, w: Watched) -> Result<(), ReaperClientError> {
        self.say(&w.line()).await
    }

    async fn say(&mut self, line: &str) -> Result<(), ReaperClientError> {
        let said = async {
            self.write.write_all(line.as_bytes()).await.ok()?;
            self.write.flush().await.ok()?;
            let answer = self.read.next_line().await.ok()??;
            (answer == "ok").then_some(())
        };
        tokio::time::timeout(Duration::from_secs(10), said)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| ReaperClientError::Unacknowledged(line.trim().to_owned()))
    }

    /// After a clean shutdown: nothing is left to remove, so the reaper forgets it all
    /// and ends.
    pub async fn release(mut self) {
        let _ = self.say("clear\n").await;
        drop(self.write);
        if let Some(c) = self.container.take() {
            let _ = c.rm().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_bad_ones_are_refused() {
        for w in [
            Watched::Label("harness.session=h1".into()),
            Watched::Process { pid: 42, start: 7 },
            Watched::Dir("/tmp/harness-h1-x".into()),
        ] {
            assert_eq!(Watched::parse(w.line().trim_end()), Some(w));
        }
        for bad in ["label nothing", "pid 1", "dir relative", "rm -rf /", ""] {
            assert_eq!(Watched::parse(bad), None, "{bad}");
        }
    }

    /// A reaper on a free port, and a connection to it.
    async fn reaper_and_owner() -> (tokio::task::JoinHandle<Result<(), ReaperError>>, Reaper) {
        let port = harness_support::net::free_port().expect("port");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let served = tokio::spawn(serve(ReaperOptions {
            listen: Some(addr),
            grace: Duration::from_millis(100),
            wait: Duration::from_secs(10),
            label: None,
        }));
        let conn = loop {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let (r, w) = conn.into_split();
        (served, Reaper::over(Box::new(r), Box::new(w)))
    }

    #[tokio::test]
    async fn an_owner_that_goes_without_a_goodbye_is_cleaned_up_after() {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        std::fs::write(dir.join("data"), "x").expect("write");
        let (served, mut owner) = reaper_and_owner().await;
        owner.watch(Watched::Dir(dir.clone())).await.expect("noted");
        drop(owner);
        served.await.expect("joined").expect("served");
        assert!(!dir.exists(), "{} is still there", dir.display());
    }

    #[tokio::test]
    async fn an_owner_that_says_goodbye_keeps_what_it_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (served, mut owner) = reaper_and_owner().await;
        owner
            .watch(Watched::Dir(dir.path().to_owned()))
            .await
            .expect("noted");
        owner.release().await;
        served.await.expect("joined").expect("served");
        assert!(dir.path().exists());
    }

    #[test]
    fn a_live_process_has_a_start_time_and_a_gone_one_none() {
        let me = std::process::id();
        assert!(Watched::process(me).is_some());
        assert_eq!(start_time(i32::MAX), None);
    }
}
