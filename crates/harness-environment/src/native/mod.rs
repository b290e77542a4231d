//! The native backend: `initdb` + `postgres` and `redis-server` as child processes on
//! free loopback ports in one temporary directory, and the Toxiproxy server in-process.

mod binaries;
mod services;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use nix::unistd::{Gid, Uid, User};
use tokio::process::Command;

pub use binaries::{locate, locate_redis, PgSearch};
use harness_support::process::ServiceProcess;

use super::reaper::{self, Reaper, Watched};
use super::{Backend, EnvConfig, EnvError, Running, Services, DB_NAME};
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

/// The user and group the services run as, when the harness runs as root.
type Owner = Option<(Uid, Gid)>;

/// Postgres refuses to run as root; pick the user it should run as.
fn run_as() -> Result<Owner, EnvError> {
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

fn chown_tree(path: &Path, owner: Owner) -> Result<(), EnvError> {
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(path, Some(uid), Some(gid))
            .map_err(|e| EnvError::io(format!("chown {}", path.display()), e.into()))?;
    }
    Ok(())
}

fn as_user(cmd: &mut Command, owner: Owner) {
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

        let site = services::Site {
            dir: dir.path(),
            owner,
            timeout,
        };
        services::init_cluster(&bindir, &data, &site).await?;
        let postgres = services::Service::Postgres {
            bindir: &bindir,
            data: &data,
        };
        let free_port = harness_support::net::free_port;
        let postgres = services::start(&postgres, &site, &mut reaper, free_port).await?;
        create_database(&services::admin_url(postgres.port)).await?;
        let redis = services::Service::Redis { bin: &redis_bin };
        let redis = services::start(&redis, &site, &mut reaper, free_port).await?;
        let pg_addr = SocketAddr::from(([127, 0, 0, 1], postgres.port));
        let redis_addr = SocketAddr::from(([127, 0, 0, 1], redis.port));

        let toxiproxy = ToxiproxyServer::start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| EnvError::io("start the in-process toxiproxy server", e))?;
        Ok(Box::new(NativeRunning {
            services: Services {
                postgres: pg_addr,
                redis: redis_addr,
                toxiproxy: toxiproxy.addr(),
            },
            postgres: postgres.process,
            redis: redis.process,
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
