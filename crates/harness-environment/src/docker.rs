//! The docker backend: Postgres and Redis containers with published ports, and a
//! Toxiproxy container on the host network so that every proxy listens on loopback and
//! reaches the LLM fake on loopback, as the native backend's do; when asked, the alert
//! components as containers too ([`crate::alerts::docker`]).

use std::net::SocketAddr;

use async_trait::async_trait;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::redis::Redis;

use super::container::{ready, MANAGED_LABEL, SESSION_LABEL};
use super::reaper::{self, Reaper, Watched};
use super::{
    dockerapi, Backend, EnvConfig, EnvError, Running, Services, DB_NAME, DB_PASSWORD, DB_USER,
};
use harness_faults::FaultClient;

/// Checks that a daemon answers `GET /_ping`.
pub async fn ping() -> Result<(), EnvError> {
    let unavailable = |reason: String| EnvError::DockerUnavailable {
        endpoint: dockerapi::endpoint(),
        reason,
    };
    match dockerapi::call("GET", "/_ping").await {
        Ok((200, _)) => Ok(()),
        Ok((status, _)) => Err(unavailable(format!(
            "unexpected answer to /_ping: HTTP {status}"
        ))),
        Err(dockerapi::DockerApiError::Connect { source, .. }) => {
            Err(unavailable(source.to_string()))
        }
        Err(e) => Err(unavailable(e.to_string())),
    }
}

pub(super) struct DockerBackend;

struct DockerRunning {
    services: Services,
    postgres: ContainerAsync<Postgres>,
    redis: ContainerAsync<Redis>,
    toxiproxy: ContainerAsync<GenericImage>,
    alerts: Option<crate::alerts::docker::DockerAlerts>,
    /// Removes the session's containers if the harness is killed.
    reaper: Reaper,
}

fn container_err(
    service: &'static str,
    image: &impl ToString,
) -> impl Fn(testcontainers::TestcontainersError) -> EnvError {
    let image = image.to_string();
    move |e| EnvError::Container {
        service,
        image: image.clone(),
        message: e.to_string(),
    }
}

#[async_trait]
impl Backend for DockerBackend {
    async fn start(
        &self,
        session: &str,
        config: &EnvConfig,
        receiver: Option<&crate::alerts::ReceiverUrls>,
    ) -> Result<Box<dyn Running>, EnvError> {
        let images = &config.images;
        let timeout = config.startup_timeout;
        // The reaper first: a container from the local image that holds the harness, or,
        // where that image is the real Toxiproxy, a reaper process.
        let mut reaper = match reaper::container(session, &images.toxiproxy, timeout).await {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "no reaper container; a reaper process stands in");
                reaper::process().await?
            }
        };
        reaper
            .watch(Watched::Label(format!("{SESSION_LABEL}={session}")))
            .await?;
        let owner = reaper::owner();
        let pg = Postgres::default()
            .with_user(DB_USER)
            .with_password(DB_PASSWORD)
            .with_db_name(DB_NAME)
            .with_name(&images.postgres.name)
            .with_tag(&images.postgres.tag)
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
            .with_label(reaper::OWNER_LABEL, &owner)
            .with_startup_timeout(timeout)
            .start();
        let redis = Redis::default()
            .with_name(&images.redis.name)
            .with_tag(&images.redis.tag)
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
            .with_label(reaper::OWNER_LABEL, &owner)
            .with_startup_timeout(timeout)
            .start();
        let api_port =
            harness_support::net::free_port().map_err(|e| EnvError::io("pick a port", e))?;
        let toxi = GenericImage::new(&images.toxiproxy.name, &images.toxiproxy.tag)
            .with_wait_for(WaitFor::Nothing)
            .with_network("host")
            .with_cmd(["-host=127.0.0.1".to_string(), format!("-port={api_port}")])
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
            .with_label(reaper::OWNER_LABEL, &owner)
            .with_startup_timeout(timeout)
            .start();
        // Started together; if one fails, the others are dropped, which removes them.
        let (pg, redis, toxi) = tokio::join!(pg, redis, toxi);
        let postgres = pg.map_err(container_err("postgres", &images.postgres))?;
        let redis = redis.map_err(container_err("redis", &images.redis))?;
        let toxiproxy = toxi.map_err(container_err("toxiproxy", &images.toxiproxy))?;

        let pg_port = postgres
            .get_host_port_ipv4(5432.tcp())
            .await
            .map_err(container_err("postgres", &images.postgres))?;
        let redis_port = redis
            .get_host_port_ipv4(6379.tcp())
            .await
            .map_err(container_err("redis", &images.redis))?;
        let api = SocketAddr::from(([127, 0, 0, 1], api_port));
        let client = FaultClient::new(api);
        ready("toxiproxy container", timeout, &toxiproxy, || async {
            client
                .version()
                .await
                .map(|_| ())
                .map_err(super::probe::ProbeError::from_display)
        })
        .await?;
        let alerts = match (&config.alerts, receiver) {
            (Some(a), Some(url)) => {
                Some(crate::alerts::docker::start(session, images, a, url, timeout).await?)
            }
            _ => None,
        };
        Ok(Box::new(DockerRunning {
            services: Services {
                postgres: SocketAddr::from(([127, 0, 0, 1], pg_port)),
                redis: SocketAddr::from(([127, 0, 0, 1], redis_port)),
                toxiproxy: api,
            },
            postgres,
            redis,
            toxiproxy,
            alerts,
            reaper,
        }))
    }
}

#[async_trait]
impl Running for DockerRunning {
    fn services(&self) -> Services {
        self.services
    }

    fn owned(&self) -> Vec<String> {
        let alerts = self
            .alerts
            .iter()
            .flat_map(|a| [a.prometheus.id().to_owned(), a.alertmanager.id().to_owned()]);
        vec![
            self.postgres.id().to_owned(),
            self.redis.id().to_owned(),
            self.toxiproxy.id().to_owned(),
        ]
        .into_iter()
        .chain(alerts)
        .collect()
    }

    fn alerts(&self) -> Option<crate::alerts::AlertServices> {
        self.alerts.as_ref().map(|a| a.services)
    }

    async fn stop(self: Box<Self>) -> Result<(), EnvError> {
        let this = *self;
        if let Some(a) = this.alerts {
            let (p, m) = tokio::join!(a.prometheus.rm(), a.alertmanager.rm());
            for (what, r) in [("prometheus", p), ("alertmanager", m)] {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "remove the {what} container");
                }
            }
        }
        let (a, b, c) = tokio::join!(this.toxiproxy.rm(), this.redis.rm(), this.postgres.rm());
        this.reaper.release().await;
        for (service, r) in [("toxiproxy", a), ("redis", b), ("postgres", c)] {
            r.map_err(|e| EnvError::Container {
                service,
                image: String::new(),
                message: format!("remove: {e}"),
            })?;
        }
        Ok(())
    }
}
