//! The run environment: Postgres, Redis, a Toxiproxy-compatible fault layer in front of
//! every dependency, and the LLM fake, from one of two backends behind one interface.
//!
//! - **docker**: Postgres, Redis and Toxiproxy as containers (testcontainers).
//! - **native**: `initdb`/`postgres` and `redis-server` as child processes in a
//!   temporary directory, and the Toxiproxy server in-process.
//!
//! When [`EnvConfig::alerts`] asks for them, both also start the alert components
//! ([`alerts`]): Prometheus and Alertmanager, with a webhook receiver in-process.
//!
//! Both hand back the same [`Endpoints`]. Everything started is stopped by
//! [`Environment::shutdown`]; if that is never reached (panic, early return), each
//! piece's `Drop` stops it.

pub mod alerts;
mod container;
mod docker;
mod dockerapi;
mod error;
pub mod images;
mod native;
pub mod probe;
mod proxies;
pub mod reaper;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

pub use alerts::{Alerting, AlertsConfig, Received, RuleFile};
pub use error::EnvError;
pub use images::{ImageError, ImageRef, Images};

use harness_faults::FaultClient;
use harness_llm_fake::{LlmControl, LlmFake, LlmFakeConfig};
use harness_results::exit::{DirectUrls, ReadyInfo};

/// Database user, password and name in both backends.
pub const DB_USER: &str = "harness";
/// See [`DB_USER`].
pub const DB_PASSWORD: &str = "harness";
/// See [`DB_USER`].
pub const DB_NAME: &str = "harness";

/// Toxiproxy proxy names: the handles chaos uses to reach each dependency.
pub mod proxy {
    /// In front of Postgres.
    pub const POSTGRES: &str = "postgres";
    /// In front of Redis.
    pub const REDIS: &str = "redis";
    /// In front of the LLM fake.
    pub const LLM: &str = "llm";
}

/// The `--backend` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Containers through testcontainers.
    Docker,
    /// Local processes.
    Native,
    /// Docker when a daemon answers, otherwise native.
    Auto,
}

/// A backend name that is not docker, native or auto.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend '{0}' (expected docker, native or auto)")]
pub struct BackendError(pub String);

impl FromStr for BackendChoice {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, BackendError> {
        match s {
            "docker" => Ok(BackendChoice::Docker),
            "native" => Ok(BackendChoice::Native),
            "auto" => Ok(BackendChoice::Auto),
            other => Err(BackendError(other.to_owned())),
        }
    }
}

/// The backend actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Containers.
    Docker,
    /// Local processes.
    Native,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Docker => "docker",
            BackendKind::Native => "native",
        })
    }
}

/// Everything needed to bring an environment up.
#[derive(Debug, Clone)]
pub struct EnvConfig {
    /// Which backend.
    pub backend: BackendChoice,
    /// Images for the docker backend.
    pub images: Images,
    /// The LLM fake's settings.
    pub llm: LlmFakeConfig,
    /// Upper bound for each service to become ready.
    pub startup_timeout: Duration,
    /// The alert components, when a run is to be judged on its alerts.
    pub alerts: Option<AlertsConfig>,
}

impl Default for EnvConfig {
    fn default() -> Self {
        EnvConfig {
            backend: BackendChoice::Auto,
            images: Images::default(),
            llm: LlmFakeConfig::default(),
            startup_timeout: Duration::from_secs(60),
            alerts: None,
        }
    }
}

/// Direct addresses of the services a backend started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Services {
    /// Postgres, no fault layer.
    pub postgres: SocketAddr,
    /// Redis, no fault layer.
    pub redis: SocketAddr,
    /// The Toxiproxy REST API.
    pub toxiproxy: SocketAddr,
}

/// A backend that can start the services.
#[async_trait]
trait Backend {
    /// Starts Postgres, Redis and a Toxiproxy server, ready to use, and when
    /// `config.alerts` asks, the alert components routing to `receiver`.
    async fn start(
        &self,
        session: &str,
        config: &EnvConfig,
        receiver: Option<&alerts::ReceiverUrls>,
    ) -> Result<Box<dyn Running>, EnvError>;
}

/// Started services. Dropping one stops it (best effort); `stop` does it gracefully.
#[async_trait]
trait Running: Send + Sync {
    fn services(&self) -> Services;
    /// Process ids (native) or container ids (docker), for leak checks.
    fn owned(&self) -> Vec<String>;
    /// The alert components, when they were asked for.
    fn alerts(&self) -> Option<alerts::AlertServices>;
    async fn stop(self: Box<Self>) -> Result<(), EnvError>;
}

/// URLs of a ready environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Through the fault layer.
    pub postgres_url: String,
    /// Through the fault layer.
    pub redis_url: String,
    /// Through the fault layer.
    pub llm_url: String,
    /// The Toxiproxy API.
    pub toxiproxy_url: String,
    /// Straight to Postgres.
    pub postgres_direct_url: String,
    /// Straight to Redis.
    pub redis_direct_url: String,
    /// Straight to the LLM fake.
    pub llm_direct_url: String,
}

fn pg_url(addr: SocketAddr) -> String {
    format!("postgres://{DB_USER}:{DB_PASSWORD}@{addr}/{DB_NAME}")
}

/// A running environment.
pub struct Environment {
    backend: BackendKind,
    session: String,
    endpoints: Endpoints,
    faults: FaultClient,
    llm: LlmFake,
    alerting: Option<Alerting>,
    running: Option<Box<dyn Running>>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("backend", &self.backend)
            .field("session", &self.session)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl Environment {
    /// Starts the environment and waits until Postgres and Redis answer through their
    /// proxies. On failure, whatever was started is stopped before the error returns.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness_environment::EnvError> {
    /// use harness_environment::{Environment, EnvConfig};
    /// let env = Environment::start(EnvConfig::default()).await?;
    /// println!("{}", env.endpoints().postgres_url);
    /// env.shutdown().await
    /// # }
    /// ```
    pub async fn start(config: EnvConfig) -> Result<Self, EnvError> {
        let kind = resolve_backend(config.backend).await?;
        // What killed sessions left behind goes first; a live session is never touched.
        for what in reaper::sweep(kind == BackendKind::Docker).await {
            tracing::warn!(%what, "removed what a killed harness session left behind");
        }
        let session = new_session_id();
        let llm = LlmFake::start(config.llm.clone()).await?;
        let receiver = match config.alerts {
            Some(_) => Some(
                alerts::Receiver::start()
                    .await
                    .map_err(|e| EnvError::io("start the alert receiver", e))?,
            ),
            None => None,
        };
        let urls = receiver.as_ref().map(alerts::Receiver::urls);
        let running: Box<dyn Running> = match kind {
            BackendKind::Docker => {
                docker::DockerBackend
                    .start(&session, &config, urls.as_ref())
                    .await?
            }
            BackendKind::Native => {
                native::NativeBackend
                    .start(&session, &config, urls.as_ref())
                    .await?
            }
        };
        let alerting = running
            .alerts()
            .zip(receiver)
            .map(|(services, receiver)| Alerting::new(services, receiver));
        match wire(running.services(), llm.address(), config.startup_timeout).await {
            Ok((endpoints, faults)) => Ok(Environment {
                backend: kind,
                session,
                endpoints,
                faults,
                llm,
                alerting,
                running: Some(running),
            }),
            Err(e) => {
                if let Err(stop) = running.stop().await {
                    tracing::warn!(error = %stop, "cleanup after failed start");
                }
                Err(e)
            }
        }
    }

    /// Which backend runs the services.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// The session id: the `harness.session` label of its containers, part of its
    /// temporary directories' names.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The URLs of the services.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The fault layer.
    pub fn faults(&self) -> FaultClient {
        self.faults
    }

    /// The LLM fake's controls and counters.
    pub fn llm(&self) -> LlmControl {
        self.llm.control()
    }

    /// The alert components, when [`EnvConfig::alerts`] asked for them.
    pub fn alerting(&self) -> Option<&Alerting> {
        self.alerting.as_ref()
    }

    /// Process ids (native) or container ids (docker) this environment owns.
    pub fn owned(&self) -> Vec<String> {
        self.running.as_ref().map(|r| r.owned()).unwrap_or_default()
    }

    /// The machine-readable summary `harness up --json` prints.
    pub fn ready_info(&self) -> ReadyInfo {
        let e = &self.endpoints;
        ReadyInfo {
            backend: self.backend.to_string(),
            session: self.session.clone(),
            postgres_url: e.postgres_url.clone(),
            redis_url: e.redis_url.clone(),
            llm_url: e.llm_url.clone(),
            toxiproxy_url: e.toxiproxy_url.clone(),
            prometheus_url: self.alerting.as_ref().map(Alerting::prometheus_url),
            alertmanager_url: self.alerting.as_ref().map(Alerting::alertmanager_url),
            direct: DirectUrls {
                postgres_url: e.postgres_direct_url.clone(),
                redis_url: e.redis_direct_url.clone(),
                llm_url: e.llm_direct_url.clone(),
            },
        }
    }

    /// The versions of Postgres and Redis, asked directly (not through the faults), for
    /// the report. A version that cannot be read is left out and logged.
    pub async fn versions(&self) -> std::collections::BTreeMap<String, String> {
        let e = &self.endpoints;
        let (pg, redis) = tokio::join!(
            probe::postgres_version(&e.postgres_direct_url),
            probe::redis_version(&e.redis_direct_url)
        );
        let mut out = std::collections::BTreeMap::new();
        for (name, v) in [("postgres", pg), ("redis", redis)] {
            match v {
                Ok(v) => {
                    out.insert(name.to_owned(), v);
                }
                Err(error) => tracing::warn!(%error, "could not read the {name} version"),
            }
        }
        out
    }

    /// Stops every service and removes every container and temporary directory.
    pub async fn shutdown(mut self) -> Result<(), EnvError> {
        match self.running.take() {
            Some(r) => r.stop().await,
            None => Ok(()),
        }
    }
}

async fn resolve_backend(choice: BackendChoice) -> Result<BackendKind, EnvError> {
    match choice {
        BackendChoice::Native => Ok(BackendKind::Native),
        BackendChoice::Docker => docker::ping().await.map(|_| BackendKind::Docker),
        BackendChoice::Auto => Ok(match docker::ping().await {
            Ok(()) => BackendKind::Docker,
            Err(e) => {
                tracing::info!(reason = %e, "auto backend: using native");
                BackendKind::Native
            }
        }),
    }
}

fn new_session_id() -> String {
    format!(
        "h{:x}{:06x}",
        std::process::id(),
        rand::random::<u32>() & 0xff_ffff
    )
}

/// Creates the three proxies and checks Postgres and Redis through them.
async fn wire(
    services: Services,
    llm: SocketAddr,
    timeout: Duration,
) -> Result<(Endpoints, FaultClient), EnvError> {
    let faults = FaultClient::new(services.toxiproxy);
    let upstreams = [
        (proxy::POSTGRES, services.postgres),
        (proxy::REDIS, services.redis),
        (proxy::LLM, llm),
    ];
    let listen = proxies::create(&faults, &upstreams, harness_support::net::free_port).await?;
    let endpoints = Endpoints {
        postgres_url: pg_url(listen[0]),
        redis_url: format!("redis://{}", listen[1]),
        llm_url: format!("http://{}", listen[2]),
        toxiproxy_url: format!("http://{}", services.toxiproxy),
        postgres_direct_url: pg_url(services.postgres),
        redis_direct_url: format!("redis://{}", services.redis),
        llm_direct_url: format!("http://{llm}"),
    };
    let pg = endpoints.postgres_url.clone();
    probe::retry_until(timeout, || Ok(()), || probe::postgres_select_1(&pg))
        .await
        .map_err(|reason| EnvError::NotReady {
            service: "postgres (through its proxy)",
            timeout,
            reason: reason.to_string(),
            log_tail: None,
        })?;
    let rd = endpoints.redis_url.clone();
    probe::retry_until(timeout, || Ok(()), || probe::redis_ping(&rd))
        .await
        .map_err(|reason| EnvError::NotReady {
            service: "redis (through its proxy)",
            timeout,
            reason: reason.to_string(),
            log_tail: None,
        })?;
    Ok((endpoints, faults))
}
