//! The native backend: `initdb` + `postgres` and `redis-server` (and, when asked, the
//! alert components) as child processes on free loopback ports in one temporary
//! directory, and the Toxiproxy server in-process.

mod binaries;
mod services;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use nix::unistd::{Gid, Uid, User};
use tokio::process::Command;

pub use binaries::{locate, locate_redis, on_path, PgSearch};
use harness_support::process::ServiceProcess;

use super::alerts::{self, config, AlertServices, AlertsConfig, ReceiverUrls};
use super::reaper::{self, Reaper, Watched};
use super::{Backend, EnvConfig, EnvError, Running, Services, DB_NAME};
use harness_faults::ToxiproxyServer;

pub(super) struct NativeBackend;

struct NativeRunning {
    services: Services,
    postgres: ServiceProcess,
    redis: ServiceProcess,
    toxiproxy: ToxiproxyServer,
    alerts: Option<NativeAlerts>,
    // Dropped last: the processes above must be gone before their files are removed.
    dir: tempfile::TempDir,
    /// Removes the processes and the directory if the harness is killed.
    reaper: Reaper,
}

/// Alertmanager and Prometheus as child processes.
struct NativeAlerts {
    alertmanager: ServiceProcess,
    prometheus: ServiceProcess,
    services: AlertServices,
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
    async fn start(
        &self,
        session: &str,
        config: &EnvConfig,
        receiver: Option<&ReceiverUrls>,
    ) -> Result<Box<dyn Running>, EnvError> {
        // Check every prerequisite before starting anything.
        let bindir = locate(&PgSearch::from_env())
            .map_err(|n| EnvError::PostgresNotFound { searched: n.0 })?;
        let path = std::env::var_os("PATH");
        let redis_bin = locate_redis(path.as_deref()).ok_or(EnvError::RedisNotFound)?;
        let alert_bins = match (&config.alerts, receiver) {
            (Some(a), Some(url)) => Some((alert_programs(path.as_deref())?, a, url)),
            _ => None,
        };
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
        let alerts = match alert_bins {
            Some(((prometheus, alertmanager), a, url)) => {
                let dir = dir.path().join("alerts");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| EnvError::io(format!("create {}", dir.display()), e))?;
                let site = services::Site {
                    dir: &dir,
                    owner: None,
                    timeout,
                };
                let bins = (prometheus.as_path(), alertmanager.as_path());
                Some(start_alerts(bins, a, url, &site, &mut reaper).await?)
            }
            None => None,
        };
        Ok(Box::new(NativeRunning {
            services: Services {
                postgres: pg_addr,
                redis: redis_addr,
                toxiproxy: toxiproxy.addr(),
            },
            postgres: postgres.process,
            redis: redis.process,
            toxiproxy,
            alerts,
            dir,
            reaper,
        }))
    }
}

/// Prometheus and Alertmanager on PATH.
fn alert_programs(
    path: Option<&std::ffi::OsStr>,
) -> Result<(std::path::PathBuf, std::path::PathBuf), EnvError> {
    let prometheus =
        on_path(&[alerts::program::PROMETHEUS], path).ok_or(EnvError::AlertProgramNotFound {
            program: alerts::program::PROMETHEUS,
        })?;
    let alertmanager =
        on_path(&alerts::program::ALERTMANAGER, path).ok_or(EnvError::AlertProgramNotFound {
            program: alerts::program::ALERTMANAGER[0],
        })?;
    Ok((prometheus, alertmanager))
}

/// Alertmanager, then Prometheus pointed at it, with their files in `site.dir`.
async fn start_alerts(
    (prometheus, alertmanager): (&Path, &Path),
    config: &AlertsConfig,
    receiver: &ReceiverUrls,
    site: &services::Site<'_>,
    reaper: &mut Reaper,
) -> Result<NativeAlerts, EnvError> {
    let files = config::Files::under(site.dir);
    config::write_native(&files, config, &receiver.alerts)?;
    let free_port = harness_support::net::free_port;
    let am = services::Service::Alertmanager {
        bin: alertmanager,
        files: &files,
        receiver: &receiver.alerts,
    };
    let am = services::start(&am, site, reaper, free_port).await?;
    let am_addr = SocketAddr::from(([127, 0, 0, 1], am.port));
    let text = config::prometheus(&files, config, am_addr, &receiver.targets);
    config::write(&files.prometheus, &text)?;
    let prom = services::Service::Prometheus {
        bin: prometheus,
        files: &files,
    };
    let prom = services::start(&prom, site, reaper, free_port).await?;
    Ok(NativeAlerts {
        services: AlertServices {
            prometheus: SocketAddr::from(([127, 0, 0, 1], prom.port)),
            alertmanager: am_addr,
        },
        alertmanager: am.process,
        prometheus: prom.process,
    })
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
        let alerts = self
            .alerts
            .iter()
            .flat_map(|a| [a.prometheus.pid(), a.alertmanager.pid()]);
        [self.postgres.pid(), self.redis.pid()]
            .into_iter()
            .chain(alerts)
            .flatten()
            .map(|p| p.to_string())
            .collect()
    }

    fn alerts(&self) -> Option<AlertServices> {
        self.alerts.as_ref().map(|a| a.services)
    }

    async fn stop(self: Box<Self>) -> Result<(), EnvError> {
        let this = *self;
        this.toxiproxy.shutdown().await;
        let grace = Duration::from_secs(10);
        if let Some(a) = this.alerts {
            let (p, m) = tokio::join!(a.prometheus.stop(grace), a.alertmanager.stop(grace));
            for (what, r) in [("stop prometheus", p), ("stop alertmanager", m)] {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "{what}");
                }
            }
        }
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
