//! The docker backend: Postgres and Redis containers with published ports, and a
//! Toxiproxy container on the host network so that every proxy listens on loopback and
//! reaches the LLM fake on loopback, as the native backend's do.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::redis::Redis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Backend, EnvConfig, EnvError, Running, Services, DB_NAME, DB_PASSWORD, DB_USER};
use crate::faults::FaultClient;

/// Label every container carries, for leak checks and manual cleanup.
pub const MANAGED_LABEL: &str = "harness.managed";
/// Label with the environment's session id.
pub const SESSION_LABEL: &str = "harness.session";

/// Where the Docker daemon is: `DOCKER_HOST`, else the default socket.
fn docker_endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Checks that a daemon answers `GET /_ping`, within 3 seconds.
pub async fn ping() -> Result<(), EnvError> {
    let endpoint = docker_endpoint();
    let unavailable = |reason: String| EnvError::DockerUnavailable {
        endpoint: endpoint.clone(),
        reason,
    };
    let request = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    let exchange = async {
        let mut reply = Vec::new();
        if let Some(path) = endpoint.strip_prefix("unix://") {
            let mut s = tokio::net::UnixStream::connect(path).await?;
            s.write_all(request).await?;
            s.read_to_end(&mut reply).await?;
        } else if let Some(addr) = endpoint.strip_prefix("tcp://") {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(request).await?;
            s.read_to_end(&mut reply).await?;
        } else {
            return Err(std::io::Error::other("unsupported DOCKER_HOST scheme"));
        }
        Ok(reply)
    };
    let reply = tokio::time::timeout(Duration::from_secs(3), exchange)
        .await
        .map_err(|_| unavailable("no answer within 3s".into()))?
        .map_err(|e| unavailable(e.to_string()))?;
    let text = String::from_utf8_lossy(&reply);
    if text.starts_with("HTTP/1.") && text.contains(" 200 ") {
        Ok(())
    } else {
        Err(unavailable(format!(
            "unexpected answer to /_ping: {}",
            text.lines().next().unwrap_or("")
        )))
    }
}

pub(super) struct DockerBackend;

struct DockerRunning {
    services: Services,
    postgres: ContainerAsync<Postgres>,
    redis: ContainerAsync<Redis>,
    toxiproxy: ContainerAsync<GenericImage>,
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
    async fn start(&self, session: &str, config: &EnvConfig) -> Result<Box<dyn Running>, EnvError> {
        let images = &config.images;
        let timeout = config.startup_timeout;
        let pg = Postgres::default()
            .with_user(DB_USER)
            .with_password(DB_PASSWORD)
            .with_db_name(DB_NAME)
            .with_name(&images.postgres.name)
            .with_tag(&images.postgres.tag)
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
            .with_startup_timeout(timeout)
            .start();
        let redis = Redis::default()
            .with_name(&images.redis.name)
            .with_tag(&images.redis.tag)
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
            .with_startup_timeout(timeout)
            .start();
        let api_port = crate::net::free_port().map_err(|e| EnvError::io("pick a port", e))?;
        let toxi = GenericImage::new(&images.toxiproxy.name, &images.toxiproxy.tag)
            .with_wait_for(WaitFor::Nothing)
            .with_network("host")
            .with_cmd(["-host=127.0.0.1".to_string(), format!("-port={api_port}")])
            .with_label(MANAGED_LABEL, "true")
            .with_label(SESSION_LABEL, session)
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
        let ready = super::probe::retry_until(
            timeout,
            || Ok(()),
            || async {
                client
                    .version()
                    .await
                    .map(|_| ())
                    .map_err(super::probe::ProbeError::from_display)
            },
        )
        .await;
        if let Err(reason) = ready {
            let log = toxiproxy.stderr_to_vec().await.ok();
            return Err(EnvError::NotReady {
                service: "toxiproxy container",
                timeout,
                reason: reason.to_string(),
                log_tail: log.map(|l| String::from_utf8_lossy(&l).into_owned()),
            });
        }
        Ok(Box::new(DockerRunning {
            services: Services {
                postgres: SocketAddr::from(([127, 0, 0, 1], pg_port)),
                redis: SocketAddr::from(([127, 0, 0, 1], redis_port)),
                toxiproxy: api,
            },
            postgres,
            redis,
            toxiproxy,
        }))
    }
}

#[async_trait]
impl Running for DockerRunning {
    fn services(&self) -> Services {
        self.services
    }

    fn owned(&self) -> Vec<String> {
        vec![
            self.postgres.id().to_owned(),
            self.redis.id().to_owned(),
            self.toxiproxy.id().to_owned(),
        ]
    }

    async fn stop(self: Box<Self>) -> Result<(), EnvError> {
        let this = *self;
        let (a, b, c) = tokio::join!(this.toxiproxy.rm(), this.redis.rm(), this.postgres.rm());
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
