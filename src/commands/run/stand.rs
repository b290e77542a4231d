//! The stand a run measures: the built SUT, its environment and the running process,
//! brought up once and torn down on every path. `execute` uses one per run;
//! `capacity` keeps one across all its probes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::{interruptible, RunError, RunPlan, TargetPlan};
use crate::environment::Environment;
use crate::service::{
    build_reference, contract_env, RunningSut, ServiceError, SutCommand, SutSettings,
};
use crate::session::{Observer, Step};

/// A SUT ready to be loaded, with whatever was started for it.
pub struct Stand {
    /// The environment (none with `--sut-url`).
    pub env: Option<Environment>,
    sut: Option<RunningSut>,
    /// Where the SUT answers.
    pub base_url: String,
    /// Versions the environment reported.
    pub versions: BTreeMap<String, String>,
    /// Why Prometheus could not scrape the SUT before the load, when it could not: the
    /// run goes on, and its alerts are judged (and missed) with this said beside them.
    pub unscraped: Option<String>,
}

/// How long Prometheus may take to scrape the SUT once it is ready: a discovery refresh
/// and a scrape take about two seconds.
const SCRAPE_WAIT: Duration = Duration::from_secs(15);

impl Stand {
    /// Builds (for the reference), starts the environment and the SUT, and waits for
    /// `/ready`. Whatever was started is stopped again if a later step fails.
    pub async fn up(
        plan: &RunPlan,
        dir: &Path,
        observer: &dyn Observer,
    ) -> Result<Stand, RunError> {
        let command = match &plan.target {
            TargetPlan::Reference(profile) => {
                observer.started(Step::Build);
                let binary = interruptible(build_reference(*profile)).await??;
                observer.finished(Step::Build, &binary.display().to_string());
                SutCommand::Binary(binary)
            }
            TargetPlan::Command(c) => SutCommand::Shell(c.clone()),
            TargetPlan::Url(url) => {
                // A chaos shard's SUT is started by shard 0 at the same moment as this
                // shard: wait for it, as shard 0 does, before the schedule starts.
                if plan.chaos.is_some() && plan.shard.is_some() {
                    observer.started(Step::WarmUp);
                    let ready = crate::service::wait_url_ready(url, plan.ready_timeout);
                    interruptible(ready).await??;
                    observer.finished(Step::WarmUp, "ready");
                }
                return Ok(Stand {
                    env: None,
                    sut: None,
                    base_url: url.trim_end_matches('/').to_owned(),
                    versions: BTreeMap::new(),
                    unscraped: None,
                });
            }
        };
        observer.started(Step::Environment);
        let e = interruptible(Environment::start(plan.env.clone())).await??;
        observer.finished(Step::Environment, &format!("{} backend", e.backend()));
        let mut stand = Stand {
            versions: e.versions().await,
            unscraped: None,
            env: Some(e),
            sut: None,
            base_url: String::new(),
        };
        match stand.start_sut(plan, &command, dir, observer).await {
            Ok(()) => Ok(stand),
            Err(err) => {
                stand.down().await;
                Err(err)
            }
        }
    }

    async fn start_sut(
        &mut self,
        plan: &RunPlan,
        command: &SutCommand,
        dir: &Path,
        observer: &dyn Observer,
    ) -> Result<(), RunError> {
        let Some(e) = &self.env else {
            return Ok(());
        };
        let settings = SutSettings {
            jwt_secret: plan.jwt_secret.clone(),
            seed_file: Some(plan.seed_file.clone()),
            extra: plan.scenario.sut_env.clone().into_iter().collect(),
        };
        let listen = match plan.sut_listen {
            Some(a) => a,
            None => {
                let port = crate::net::free_port().map_err(|e| {
                    RunError::Service(ServiceError::Spawn {
                        command: "pick a port".into(),
                        source: e,
                    })
                })?;
                std::net::SocketAddr::from(([127, 0, 0, 1], port))
            }
        };
        let vars = contract_env(e.endpoints(), listen, &settings);
        observer.started(Step::WarmUp);
        let s = self.sut.insert(RunningSut::spawn(
            command,
            listen,
            &vars,
            &dir.join("sut.log"),
        )?);
        interruptible(s.wait_ready(plan.ready_timeout)).await??;
        if let Some(a) = e.alerting() {
            // A SUT on every address is scraped on loopback.
            let at = if listen.ip().is_unspecified() {
                std::net::SocketAddr::from(([127, 0, 0, 1], listen.port()))
            } else {
                listen
            };
            if let Err(e) = interruptible(a.scrape(at, SCRAPE_WAIT)).await? {
                tracing::warn!(error = %e, "Prometheus could not scrape the SUT's /metrics");
                self.unscraped = Some(format!(
                    "Prometheus could not scrape the SUT's /metrics within {} s, so no \
                     rule saw it",
                    SCRAPE_WAIT.as_secs()
                ));
            }
        }
        observer.finished(Step::WarmUp, "ready");
        self.base_url = s.base_url().to_owned();
        Ok(())
    }

    /// CPU seconds the SUT the harness started has used so far; `None` with `--sut-url`.
    pub fn sut_cpu_seconds(&self) -> Option<f64> {
        self.sut.as_ref()?.cpu_seconds()
    }

    /// The backend's name, when an environment was started.
    pub fn backend(&self) -> Option<String> {
        self.env.as_ref().map(|e| e.backend().to_string())
    }

    /// Stops the SUT, then the environment.
    pub async fn down(&mut self) {
        if let Some(s) = self.sut.take() {
            if let Err(e) = s.stop(Duration::from_secs(30)).await {
                tracing::warn!(error = %e, "stopping the SUT");
            }
        }
        if let Some(e) = self.env.take() {
            if let Err(err) = e.shutdown().await {
                tracing::warn!(error = %err, "environment shutdown");
            }
        }
    }
}
