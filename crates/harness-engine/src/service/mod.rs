//! The system under test as a black box: built from this workspace or given as a
//! command, started with the contract's environment variables (sut/CONTRACT.md, CFG-1),
//! watched until `/ready`, and stopped with SIGTERM.

mod build;
mod error;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::process::Command;

pub use build::{build_reference, build_sut_in, cargo_run_vars, workspace_dir, BuildProfile};
pub use error::ServiceError;

use crate::environment::Endpoints;
use crate::process::ServiceProcess;

/// How to start the SUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SutCommand {
    /// A binary, run with no arguments (the reference `sut`).
    Binary(PathBuf),
    /// A shell command line (`--sut-cmd`), run with `sh -c` in its own process group.
    Shell(String),
}

/// What the harness tells the SUT beyond the environment's URLs.
#[derive(Debug, Clone)]
pub struct SutSettings {
    /// `JWT_SECRET`; the harness mints its users' tokens with it.
    pub jwt_secret: String,
    /// `SUT_SEED_FILE`: seed data the SUT loads before it reports ready.
    pub seed_file: Option<PathBuf>,
    /// Extra variables (`SUT_*` overrides), applied last.
    pub extra: Vec<(String, String)>,
}

/// The contract's environment (CFG-1) for a SUT listening on `listen`.
pub fn contract_env(
    ep: &Endpoints,
    listen: SocketAddr,
    settings: &SutSettings,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("SUT_LISTEN_ADDR", listen.to_string()),
        ("DATABASE_URL", ep.postgres_url.clone()),
        ("REDIS_URL", ep.redis_url.clone()),
        ("LLM_BASE_URL", ep.llm_url.clone()),
        ("LLM_API_KEY", "harness-fake-key".to_owned()),
        ("LLM_MODEL", "claude-sonnet-4-5".to_owned()),
        ("LLM_FALLBACK_MODEL", "claude-haiku-4-5".to_owned()),
        ("JWT_SECRET", settings.jwt_secret.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(seed) = &settings.seed_file {
        vars.push(("SUT_SEED_FILE".into(), seed.display().to_string()));
    }
    vars.extend(settings.extra.iter().cloned());
    vars
}

/// The words of a command line that needs no shell: no quoting, expansion, redirection,
/// operators or leading variable assignments.
fn plain_words(line: &str) -> Option<Vec<&str>> {
    const SHELL: &[char] = &[
        '\'', '"', '\\', '$', '`', ';', '&', '|', '<', '>', '(', ')', '*', '?', '[', ']', '~', '{',
        '}', '#', '=', '\n',
    ];
    let words: Vec<&str> = line.split_whitespace().collect();
    (!words.is_empty() && !line.contains(SHELL)).then_some(words)
}

/// A running SUT process. Dropping it stops the process (SIGTERM, then SIGKILL).
pub struct RunningSut {
    process: ServiceProcess,
    base_url: String,
    command: String,
}

/// Waits up to `timeout` for a SUT that something else runs (another shard, another
/// machine) to answer `{base_url}/ready`.
pub async fn wait_url_ready(base_url: &str, timeout: Duration) -> Result<(), ServiceError> {
    let url = format!("{base_url}/ready");
    match poll_ready(&url, timeout, || Ok(())).await? {
        None => Ok(()),
        Some(last) => Err(ServiceError::UrlNotReady { url, timeout, last }),
    }
}

/// Asks `url` every 100 ms until it answers 2xx (`None`), `alive` fails, or `timeout`
/// passes (the last answer seen).
async fn poll_ready(
    url: &str,
    timeout: Duration,
    mut alive: impl FnMut() -> Result<(), ServiceError>,
) -> Result<Option<String>, ServiceError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| ServiceError::Spawn {
            command: format!("an HTTP client for {url}"),
            source: std::io::Error::other(e),
        })?;
    let deadline = Instant::now() + timeout;
    loop {
        alive()?;
        let last = match http.get(url).send().await {
            Ok(r) if r.status().is_success() => return Ok(None),
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Ok(Some(last));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where to reach a server that listens on `listen`: loopback when it listens on every
/// address.
fn reachable(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, listen.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, listen.port()))
        }
        _ => listen,
    }
}

impl RunningSut {
    /// Spawns `cmd` with `vars`, listening on `listen`, its output in `log`.
    pub fn spawn(
        cmd: &SutCommand,
        listen: SocketAddr,
        vars: &[(String, String)],
        log: &Path,
    ) -> Result<Self, ServiceError> {
        let (mut command, text) = match cmd {
            SutCommand::Binary(path) => (Command::new(path), path.display().to_string()),
            // A plain program with arguments runs as itself, so SIGTERM reaches it and its
            // exit status is the one seen (contract SHUT-1); a shell in between would die
            // of the signal first.
            SutCommand::Shell(line) => match plain_words(line) {
                Some(words) => {
                    let mut c = Command::new(words[0]);
                    c.args(&words[1..]);
                    (c, line.clone())
                }
                None => {
                    let mut c = Command::new("sh");
                    c.arg("-c").arg(line);
                    (c, line.clone())
                }
            },
        };
        command.envs(vars.iter().map(|(k, v)| (k, v)));
        let process = ServiceProcess::spawn_group(
            "sut",
            command,
            log.to_owned(),
            Signal::SIGTERM,
            Signal::SIGTERM,
        )
        .map_err(|source| ServiceError::Spawn {
            command: text.clone(),
            source,
        })?;
        Ok(RunningSut {
            process,
            base_url: format!("http://{}", reachable(listen)),
            command: text,
        })
    }

    /// `http://host:port`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// CPU seconds it (and what its command started) has used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.process.cpu_seconds()
    }

    /// The command line it was started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Polls `GET /ready` until it answers 200, the process exits, or `timeout` passes.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), ServiceError> {
        let url = format!("{}/ready", self.base_url);
        let process = &mut self.process;
        let alive = || {
            process.alive().map_err(|status| ServiceError::Exited {
                status: status.to_string(),
                log: process.log_path().display().to_string(),
                tail: process.log_tail(20),
            })
        };
        match poll_ready(&url, timeout, alive).await? {
            None => Ok(()),
            Some(last) => Err(ServiceError::NotReady {
                url,
                timeout,
                last,
                log: self.process.log_path().display().to_string(),
                tail: self.log_tail(20),
            }),
        }
    }

    /// Sends SIGTERM and returns at once: the contract's shutdown signal (SHUT-1).
    pub fn terminate(&self) -> Result<(), ServiceError> {
        self.process
            .signal(Signal::SIGTERM)
            .map_err(ServiceError::Stop)
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.process.wait_exit(timeout).await
    }

    /// SIGTERM, up to `grace` to finish, then SIGKILL.
    pub async fn stop(self, grace: Duration) -> Result<(), ServiceError> {
        self.process.stop(grace).await.map_err(ServiceError::Stop)
    }
}

#[cfg(test)]
mod tests {
    use super::plain_words;

    #[test]
    fn a_plain_command_runs_without_a_shell() {
        assert_eq!(
            plain_words("/opt/sut/bin/sut --port 8080"),
            Some(vec!["/opt/sut/bin/sut", "--port", "8080"])
        );
        for line in [
            "SUT_DEFECT=x exec ./sut",
            "cd /opt && ./sut",
            "./sut > log",
            "./sut 'a b'",
            "$HOME/sut",
            "   ",
        ] {
            assert_eq!(plain_words(line), None, "{line}");
        }
    }
}
