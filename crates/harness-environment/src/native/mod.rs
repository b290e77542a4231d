//! The native backend: `initdb` + `postgres` and `redis-server` as child processes on
//! free loopback ports in one temporary directory, and the Toxiproxy server in-process.

mod binaries;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid, User};
use tokio::process::Command;

pub use binaries::{locate, locate_redis, PgSearch};
use harness_support::process::ServiceProcess;

use super::reaper::{self, Reaper, Watched};
use super::{probe, Backend, EnvConfig, EnvError, Running, Services, DB_NAME, DB_USER};
use harness_faults::ToxiproxyServer;

pub(super) struct NativeBackend;

struct NativeRunning {
    services: Services,
    postgres: ServiceProcess,
    redis: ServiceProcess,
    toxiproxy: ToxiproxyServer,
    // Dropped last: the processes above must be gone before their files are removed.
    dir: tempfile::TempDir,
    /// Removes the processes and the directory if the harness is killed.
    reaper: Reaper,
}

/// Postgres refuses to run as root; pick the user it should run as.
fn run_as() -> Result<Option<(Uid, Gid)>, EnvError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(u)) = User::from_name(name) {
            return Ok(Some((u.uid, u.gid)));
        }
    }
    Err(EnvError::NoUnprivilegedUser)
}

fn chown_tree(path: &Path, owner: Option<(Uid, Gid)>) -> Result<(), EnvError> {
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(path, Some(uid), Some(gid))
            .map_err(|e| EnvError::io(format!("chown {}", path.display()), e.into()))?;
    }
    Ok(())
}

fn as_user(cmd: &mut Command, owner: Option<(Uid, Gid)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
    }
}

#[async_trait]
impl Backend for NativeBackend {
    async fn start(&self, session: &str, config: &EnvConfig) -> Result<Box<dyn Running>, EnvError> {
        // Check every prerequisite before starting anything.
        let bindir = locate(&PgSearch::from_env())
            .map_err(|n| EnvError::PostgresNotFound { searched: n.0 })?;
        let redis_bin =
            locate_redis(std::env::var_os("PATH").as_deref()).ok_or(EnvError::RedisNotFound)?;
        let owner = run_as()?;
        let timeout = config.startup_timeout;
        // The reaper first, so that whatever is started after it is removed even if the
        // harness is killed before it can clean up.
        let mut reaper = reaper::process().await?;

        let dir = tempfile::Builder::new()
            .prefix(&format!("harness-{session}-"))
            .tempdir()
            .map_err(|e| EnvError::io("create temporary directory", e))?;
        reaper.watch(Watched::Dir(dir.path().to_owned())).await?;
        chown_tree(dir.path(), owner)?;
        let data = dir.path().join("pgdata");

        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
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
        as_user(&mut initdb, owner);
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

        let pg_port =
            harness_support::net::free_port().map_err(|e| EnvError::io("pick a port", e))?;
        let mut pg_cmd = Command::new(bindir.join("postgres"));
        pg_cmd
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(pg_port.to_string())
            .arg("-k")
            .arg(dir.path())
            // A throwaway database: durability is traded for start-up and write speed.
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=300"]);
        as_user(&mut pg_cmd, owner);
        let mut postgres = ServiceProcess::spawn(
            "postgres",
            pg_cmd,
            dir.path().join("postgres.log"),
            Signal::SIGINT,
            Signal::SIGQUIT,
        )
        .map_err(|e| EnvError::io("postgres", e))?;
        if let Some(w) = postgres.pid().and_then(Watched::process) {
            reaper.watch(w).await?;
        }

        let redis_port =
            harness_support::net::free_port().map_err(|e| EnvError::io("pick a port", e))?;
        let mut redis_cmd = Command::new(&redis_bin);
        redis_cmd
            .args(["--bind", "127.0.0.1", "--port", &redis_port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path());
        let mut redis = ServiceProcess::spawn(
            "redis-server",
            redis_cmd,
            dir.path().join("redis.log"),
            Signal::SIGTERM,
            Signal::SIGTERM,
        )
        .map_err(|e| EnvError::io("redis-server", e))?;
        if let Some(w) = redis.pid().and_then(Watched::process) {
            reaper.watch(w).await?;
        }

        let pg_addr = SocketAddr::from(([127, 0, 0, 1], pg_port));
        let admin_url = format!("postgres://{DB_USER}@{pg_addr}/postgres");
        let pg_ready = probe::retry_until(
            timeout,
            || postgres.alive().map_err(probe::ProbeError::from_display),
            || probe::postgres_select_1(&admin_url),
        )
        .await;
        if let Err(reason) = pg_ready {
            return Err(EnvError::NotReady {
                service: "postgres",
                timeout,
                reason: reason.to_string(),
                log_tail: Some(postgres.log_tail(20)),
            });
        }
        create_database(&admin_url).await?;

        let redis_addr = SocketAddr::from(([127, 0, 0, 1], redis_port));
        let redis_url = format!("redis://{redis_addr}");
        let redis_ready = probe::retry_until(
            timeout,
            || redis.alive().map_err(probe::ProbeError::from_display),
            || probe::redis_ping(&redis_url),
        )
        .await;
        if let Err(reason) = redis_ready {
            return Err(EnvError::NotReady {
                service: "redis",
                timeout,
                reason: reason.to_string(),
                log_tail: Some(redis.log_tail(20)),
            });
        }

        let toxiproxy = ToxiproxyServer::start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| EnvError::io("start the in-process toxiproxy server", e))?;
        Ok(Box::new(NativeRunning {
            services: Services {
                postgres: pg_addr,
                redis: redis_addr,
                toxiproxy: toxiproxy.addr(),
            },
            postgres,
            redis,
            toxiproxy,
            dir,
            reaper,
        }))
    }
}

async fn create_database(admin_url: &str) -> Result<(), EnvError> {
    use sqlx::Connection;
    let fail = |e: sqlx::Error| EnvError::NotReady {
        service: "postgres",
        timeout: Duration::ZERO,
        reason: format!("create database {DB_NAME}: {e}"),
        log_tail: None,
    };
    let mut conn = sqlx::PgConnection::connect(admin_url).await.map_err(fail)?;
    sqlx::query(&format!("CREATE DATABASE {DB_NAME}"))
        .execute(&mut conn)
        .await
        .map_err(fail)?;
    let _ = conn.close().await;
    Ok(())
}

#[async_trait]
impl Running for NativeRunning {
    fn services(&self) -> Services {
        self.services
    }

    fn owned(&self) -> Vec<String> {
        [self.postgres.pid(), self.redis.pid()]
            .into_iter()
            .flatten()
            .map(|p| p.to_string())
            .collect()
    }

    async fn stop(self: Box<Self>) -> Result<(), EnvError> {
        let this = *self;
        this.toxiproxy.shutdown().await;
        let grace = Duration::from_secs(10);
        let (pg, rd) = tokio::join!(this.postgres.stop(grace), this.redis.stop(grace));
        let dir = this.dir.path().to_owned();
        this.dir
            .close()
            .map_err(|e| EnvError::io(format!("remove {}", dir.display()), e))?;
        // Everything is gone: the reaper may forget it.
        this.reaper.release().await;
        pg.map_err(|e| EnvError::io("stop postgres", e))?;
        rd.map_err(|e| EnvError::io("stop redis-server", e))
    }
}
