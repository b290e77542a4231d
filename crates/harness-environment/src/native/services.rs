//! Postgres, Redis and the alert components as child processes, each on a loopback port
//! nobody holds.
//!
//! A free port is found by binding port 0 and releasing it, so another process can take
//! it before the service binds it. With tests starting environments side by side that
//! happened in CI: "could not bind IPv4 address "127.0.0.1": Address already in use".
//! The cure, as for the proxies, is a fresh port and another try, a bounded number of
//! times; any other failure is returned at once.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::process::Command;

use harness_support::process::ServiceProcess;

use super::super::alerts::{self, config::Files};
use super::super::reaper::{Reaper, Watched};
use super::super::{probe, EnvError, DB_USER};
use super::{as_user, Owner};

/// How many ports a service is tried on before the environment gives up.
pub(super) const ATTEMPTS: usize = 5;

/// What every service prints, in some case, when the port it was given is taken.
const PORT_TAKEN: &str = "address already in use";

/// A service that answers its readiness probe, and the port it listens on.
pub(super) struct Started {
    pub process: ServiceProcess,
    pub port: u16,
}

/// Where and as whom the services run.
pub(super) struct Site<'a> {
    /// The temporary directory that holds their data, sockets and logs.
    pub dir: &'a Path,
    pub owner: Owner,
    pub timeout: Duration,
}

/// Makes a fresh cluster in `data` with `initdb`, owned by the site's user.
pub(super) async fn init_cluster(
    bindir: &Path,
    data: &Path,
    site: &Site<'_>,
) -> Result<(), EnvError> {
    let timeout = site.timeout;
    let mut initdb = Command::new(bindir.join("initdb"));
    initdb
        .arg("-D")
        .arg(data)
        .args([
            "-U",
            DB_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    as_user(&mut initdb, site.owner);
    let out = tokio::time::timeout(timeout, initdb.output())
        .await
        .map_err(|_| EnvError::NotReady {
            service: "initdb",
            timeout,
            reason: "did not finish".into(),
            log_tail: None,
        })?
        .map_err(|e| EnvError::io(format!("run {}", bindir.join("initdb").display()), e))?;
    if !out.status.success() {
        return Err(EnvError::NotReady {
            service: "initdb",
            timeout,
            reason: format!("exited with {}", out.status),
            log_tail: Some(String::from_utf8_lossy(&out.stderr).into_owned()),
        });
    }
    Ok(())
}

/// One of the services, with what it needs to start.
pub(super) enum Service<'a> {
    /// `postgres` on the cluster `initdb` made in `data`.
    Postgres { bindir: &'a Path, data: &'a Path },
    /// `redis-server`, without persistence.
    Redis { bin: &'a Path },
    /// Alertmanager, routing to the receiver at `receiver`.
    Alertmanager {
        bin: &'a Path,
        files: &'a Files,
        receiver: &'a str,
    },
    /// Prometheus, with its configuration already written.
    Prometheus { bin: &'a Path, files: &'a Files },
}

/// Starts `service` on ports from `pick` until one is not taken, and returns once it
/// answers its probe (`SELECT 1`, `PING`).
pub(super) async fn start(
    service: &Service<'_>,
    site: &Site<'_>,
    reaper: &mut Reaper,
    mut pick: impl FnMut() -> std::io::Result<u16>,
) -> Result<Started, EnvError> {
    let mut attempt = 1;
    loop {
        let port = pick().map_err(|e| EnvError::io("pick a port", e))?;
        match start_on(service, port, site, reaper).await {
            Err(e) if attempt < ATTEMPTS && port_was_taken(&e) => {
                tracing::warn!(
                    attempt,
                    port,
                    "a service's port was taken; trying a fresh one"
                );
                attempt += 1;
            }
            done => return done,
        }
    }
}

async fn start_on(
    service: &Service<'_>,
    port: u16,
    site: &Site<'_>,
    reaper: &mut Reaper,
) -> Result<Started, EnvError> {
    let process = match *service {
        Service::Postgres { bindir, data } => {
            let mut cmd = Command::new(bindir.join("postgres"));
            cmd.arg("-D")
                .arg(data)
                .arg("-p")
                .arg(port.to_string())
                .arg("-k")
                .arg(site.dir)
                // A throwaway database: durability is traded for start-up and write speed.
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
                .args(["-c", "max_connections=300"]);
            as_user(&mut cmd, site.owner);
            let url = admin_url(port);
            let signals = (Signal::SIGINT, Signal::SIGQUIT);
            let log = site.dir.join("postgres.log");
            // The server that answers must be ours: a port taken by another postgres
            // would answer `SELECT 1` too.
            spawn_ready("postgres", cmd, log, signals, site, reaper, |_| {
                probe::postgres_serves(&url, data)
            })
            .await?
        }
        Service::Redis { bin } => {
            let mut cmd = Command::new(bin);
            cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(site.dir);
            let url = format!("redis://127.0.0.1:{port}");
            let signals = (Signal::SIGTERM, Signal::SIGTERM);
            let log = site.dir.join("redis.log");
            spawn_ready("redis-server", cmd, log, signals, site, reaper, |pid| {
                probe::redis_is(&url, pid)
            })
            .await?
        }
        Service::Alertmanager {
            bin,
            files,
            receiver,
        } => {
            let listen = SocketAddr::from(([127, 0, 0, 1], port));
            let mut cmd = Command::new(bin);
            cmd.args(alerts::args::alertmanager(files, listen));
            let base = format!("http://{listen}");
            let signals = (Signal::SIGTERM, Signal::SIGTERM);
            let log = site.dir.join("alertmanager.log");
            spawn_ready("alertmanager", cmd, log, signals, site, reaper, |_| {
                probe::alertmanager_serves(&base, receiver)
            })
            .await?
        }
        Service::Prometheus { bin, files } => {
            let listen = SocketAddr::from(([127, 0, 0, 1], port));
            let mut cmd = Command::new(bin);
            cmd.args(alerts::args::prometheus(files, listen));
            let base = format!("http://{listen}");
            let signals = (Signal::SIGTERM, Signal::SIGTERM);
            let log = site.dir.join("prometheus.log");
            spawn_ready("prometheus", cmd, log, signals, site, reaper, |_| {
                probe::prometheus_serves(&base, &files.prometheus)
            })
            .await?
        }
    };
    Ok(Started { process, port })
}

fn port_was_taken(e: &EnvError) -> bool {
    matches!(e, EnvError::NotReady { log_tail: Some(tail), .. }
        if tail.to_lowercase().contains(PORT_TAKEN))
}

/// Spawns `cmd` as `name`, has the reaper watch it, and waits until `ready` (given its
/// process id) succeeds.
async fn spawn_ready<F, Fut>(
    name: &'static str,
    cmd: Command,
    log: PathBuf,
    (stop, death): (Signal, Signal),
    site: &Site<'_>,
    reaper: &mut Reaper,
    mut ready: F,
) -> Result<ServiceProcess, EnvError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<(), probe::ProbeError>>,
{
    let mut process =
        ServiceProcess::spawn(name, cmd, log, stop, death).map_err(|e| EnvError::io(name, e))?;
    if let Some(w) = process.pid().and_then(Watched::process) {
        reaper.watch(w).await?;
    }
    let pid = process.pid().unwrap_or_default();
    let up = probe::retry_until(
        site.timeout,
        || process.alive().map_err(probe::ProbeError::from_display),
        || ready(pid),
    )
    .await;
    match up {
        Ok(()) => Ok(process),
        Err(reason) => Err(EnvError::NotReady {
            service: name,
            timeout: site.timeout,
            reason: reason.to_string(),
            log_tail: Some(process.log_tail(20)),
        }),
    }
}

/// The URL of the cluster's own `postgres` database, for probing and creating ours.
pub(super) fn admin_url(port: u16) -> String {
    format!("postgres://{DB_USER}@127.0.0.1:{port}/postgres")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port some other socket holds for as long as the value lives. It is bound but
    /// not listening, as the local end of an outgoing connection is, so a probe of it is
    /// refused at once.
    fn a_taken_port() -> (tokio::net::TcpSocket, u16) {
        let taken = tokio::net::TcpSocket::new_v4().expect("socket");
        taken
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let port = taken.local_addr().expect("addr").port();
        (taken, port)
    }

    /// Starts `service` with a picker whose first port is taken, and checks that it came
    /// up on the second, fresh one.
    async fn starts_past_a_taken_port(service: Service<'_>, site: &Site<'_>) {
        let (_taken, taken_port) = a_taken_port();
        let mut reaper = crate::reaper::process().await.expect("reaper");
        let mut picks = 0;
        let started = start(&service, site, &mut reaper, || {
            picks += 1;
            match picks {
                1 => Ok(taken_port),
                _ => harness_support::net::free_port(),
            }
        })
        .await
        .expect("a taken port is replaced by a fresh one");
        assert_eq!(picks, 2, "one clash, one retry");
        assert_ne!(started.port, taken_port);
        started
            .process
            .stop(Duration::from_secs(10))
            .await
            .expect("stop");
        reaper.release().await;
    }

    fn site(dir: &Path) -> Site<'_> {
        let owner = super::super::run_as().expect("a user to run postgres as");
        super::super::chown_tree(dir, owner).expect("chown");
        Site {
            dir,
            owner,
            timeout: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn postgres_whose_port_was_taken_before_it_bound_starts_on_a_fresh_one() {
        let bindir = super::super::locate(&super::super::PgSearch::from_env()).expect("postgres");
        let dir = tempfile::tempdir().expect("dir");
        let site = site(dir.path());
        let data = dir.path().join("pgdata");
        init_cluster(&bindir, &data, &site).await.expect("initdb");
        let service = Service::Postgres {
            bindir: &bindir,
            data: &data,
        };
        starts_past_a_taken_port(service, &site).await;
    }

    #[tokio::test]
    async fn redis_whose_port_was_taken_before_it_bound_starts_on_a_fresh_one() {
        let bin = super::super::locate_redis(std::env::var_os("PATH").as_deref()).expect("redis");
        let dir = tempfile::tempdir().expect("dir");
        starts_past_a_taken_port(Service::Redis { bin: &bin }, &site(dir.path())).await;
    }

    #[tokio::test]
    async fn a_port_another_redis_serves_is_not_taken_for_ours() {
        let bin = super::super::locate_redis(std::env::var_os("PATH").as_deref()).expect("redis");
        let dir = tempfile::tempdir().expect("dir");
        let their_site = site(dir.path());
        let mut reaper = crate::reaper::process().await.expect("reaper");
        let redis = Service::Redis { bin: &bin };
        let free = harness_support::net::free_port;
        let theirs = start(&redis, &their_site, &mut reaper, free)
            .await
            .expect("theirs");
        let other = tempfile::tempdir().expect("dir");
        let mut picks = vec![
            harness_support::net::free_port().expect("port"),
            theirs.port,
        ];
        let ours = start(&redis, &site(other.path()), &mut reaper, || {
            Ok(picks.pop().expect("a port"))
        })
        .await
        .expect("ours starts on the next port");
        assert_ne!(ours.port, theirs.port, "their PONG was taken for ours");
        for p in [ours.process, theirs.process] {
            p.stop(Duration::from_secs(10)).await.expect("stop");
        }
        reaper.release().await;
    }

    #[tokio::test]
    async fn a_port_that_is_always_taken_fails_after_a_bounded_number_of_tries() {
        let bin = super::super::locate_redis(std::env::var_os("PATH").as_deref()).expect("redis");
        let dir = tempfile::tempdir().expect("dir");
        let (_taken, taken_port) = a_taken_port();
        let mut reaper = crate::reaper::process().await.expect("reaper");
        let mut picks = 0;
        let got = start(
            &Service::Redis { bin: &bin },
            &site(dir.path()),
            &mut reaper,
            || {
                picks += 1;
                Ok(taken_port)
            },
        )
        .await;
        assert!(port_was_taken(&got.err().expect("never starts")));
        assert_eq!(picks, ATTEMPTS);
        reaper.release().await;
    }
}
