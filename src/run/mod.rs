//! `harness run`, the main job: build the SUT, bring up the environment, start the SUT
//! through the proxies, wait for `/ready`, load with Goose, score, write results. Every
//! process and container it starts is stopped on every path out, Ctrl-C included.

mod assemble;
mod options;
mod progress;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use assemble::{machine_info, run_id};
pub use options::RunOptions;
pub use progress::Progress;

use crate::chaos::driver::{self, Observed};
use crate::chaos::ChaosSpec;
use crate::environment::{EnvConfig, EnvError, Environment};
use crate::load::{self, LoadError, LoadPlan};
use crate::results::Results;
use crate::scenario::{Profile, Scenario};
use crate::scoring::Budget;
use crate::service::{
    build_reference, contract_env, BuildProfile, RunningSut, ServiceError, SutCommand, SutSettings,
};
use crate::shutdown;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPlan {
    /// Build `sut` from this workspace.
    Reference(BuildProfile),
    /// `--sut-cmd`: start this command with the contract's environment.
    Command(String),
    /// `--sut-url`: already running; no environment, no faults.
    Url(String),
}

/// A validated run, ready to execute.
#[derive(Clone)]
pub struct RunPlan {
    /// The scenario.
    pub scenario: Scenario,
    /// Its file.
    pub scenario_file: PathBuf,
    /// Profile name.
    pub profile_name: String,
    /// The profile.
    pub profile: Profile,
    /// Budgets, with overrides applied.
    pub budgets: Vec<Budget>,
    /// What to measure.
    pub target: TargetPlan,
    /// The environment (unused with `--sut-url`).
    pub env: EnvConfig,
    /// Seed data for the SUT.
    pub seed_file: PathBuf,
    /// `reports/`.
    pub reports_dir: PathBuf,
    /// How long the SUT may take to answer `/ready`.
    pub ready_timeout: Duration,
    /// The JWT secret given to the SUT (reference and command) or used with `--sut-url`.
    pub jwt_secret: String,
    /// The command line, for the report.
    pub command_line: Vec<String>,
    /// `harness chaos`: the faults, phases and expectations.
    pub chaos: Option<ChaosSpec>,
}

/// Why a run could not produce a verdict (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The environment failed.
    #[error("environment: {0}")]
    Env(#[from] EnvError),
    /// The SUT failed to build, start or become ready.
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// The load generator failed.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// Writing results failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A report could not be written.
    #[error("{0}")]
    Report(#[from] crate::report::files::ReportError),
    /// Ctrl-C or SIGTERM.
    #[error("interrupted by {0}; everything started has been stopped")]
    Interrupted(String),
    /// A fault could not be applied or removed, so the run does not show its effect.
    #[error("fault layer: {0}")]
    Fault(String),
    /// Nothing completed, so nothing can be scored.
    #[error("no transaction completed during the load phase; see the SUT log")]
    NoData,
}

/// A finished run: its results and where they were written.
pub struct RunOutcome {
    /// The results.
    pub results: Results,
    /// `reports/<run-id>/`.
    pub dir: PathBuf,
}

/// Runs `plan` to a verdict.
pub async fn execute(plan: RunPlan, progress: &Progress) -> Result<RunOutcome, RunError> {
    let started_at = Instant::now();
    let wall = assemble::now_rfc3339();
    let mut run_id = assemble::run_id(&plan.scenario.name, &plan.profile_name);
    if let Some(c) = &plan.chaos {
        let kinds: Vec<&str> = c.faults.iter().map(|f| f.kind()).collect();
        run_id = format!("{run_id}-{}", kinds.join("+"));
    }
    let dir = plan.reports_dir.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Write {
        path: dir.clone(),
        source,
    })?;

    let command = match &plan.target {
        TargetPlan::Reference(profile) => {
            let bar = progress.phase("build", "cargo build -p sut");
            let binary = interruptible(build_reference(*profile)).await??;
            bar.finish(&format!("{}", binary.display()));
            Some(SutCommand::Binary(binary))
        }
        TargetPlan::Command(c) => Some(SutCommand::Shell(c.clone())),
        TargetPlan::Url(_) => None,
    };

    let mut env: Option<Environment> = None;
    let mut sut: Option<RunningSut> = None;
    let mut versions = std::collections::BTreeMap::new();
    let result = async {
        let base_url = match (&plan.target, &command) {
            (TargetPlan::Url(url), _) => url.trim_end_matches('/').to_owned(),
            (_, Some(cmd)) => {
                let bar = progress.phase("environment", "postgres, redis, fault layer, LLM fake");
                let e = interruptible(Environment::start(plan.env.clone())).await??;
                bar.finish(&format!("{} backend", e.backend()));
                versions = e.versions().await;
                let settings = SutSettings {
                    jwt_secret: plan.jwt_secret.clone(),
                    seed_file: Some(plan.seed_file.clone()),
                    extra: plan.scenario.sut_env.clone().into_iter().collect(),
                };
                let port = crate::net::free_port().map_err(|e| {
                    RunError::Service(ServiceError::Spawn {
                        command: "pick a port".into(),
                        source: e,
                    })
                })?;
                let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                let vars = contract_env(e.endpoints(), listen, &settings);
                env = Some(e);
                let bar = progress.phase("warm-up", "starting the SUT, waiting for /ready");
                let s = sut.insert(RunningSut::spawn(cmd, listen, &vars, &dir.join("sut.log"))?);
                interruptible(s.wait_ready(plan.ready_timeout)).await??;
                bar.finish("ready");
                s.base_url().to_owned()
            }
            (_, None) => unreachable!("a command exists for every non-URL target"),
        };
        let planned = plan.profile.planned();
        let bar = progress.load_phase(planned, plan.profile.peak_users());
        let secret = plan.jwt_secret.clone();
        let roles = plan.scenario.roles.clone();
        let epoch = Instant::now();
        let load_plan = LoadPlan {
            scenario: plan.scenario.clone(),
            profile: plan.profile.clone(),
            base_url: base_url.clone(),
            mint: Box::new(move |i| assemble::mint(&secret, i, &roles)),
            epoch,
            // A chaos run scores its budgets over the baseline only.
            scored_until: plan.chaos.as_ref().map(|c| c.phases.fault_start()),
        };
        let (outcome, observed) = match (&plan.chaos, env.as_ref()) {
            (Some(spec), Some(e)) => {
                let (done_tx, done_rx) = tokio::sync::watch::channel(false);
                let load = async {
                    let r = load::run(load_plan).await;
                    let _ = done_tx.send(true);
                    r
                };
                let profile = &plan.env.llm.profile;
                let drive = driver::drive(spec, e, &base_url, epoch, profile, done_rx);
                let (r, seen) = tokio::join!(load, drive);
                (r?, Some(seen))
            }
            _ => (load::run(load_plan).await?, None),
        };
        bar.finish(&format!("{} transactions", outcome.recorded.requests));
        if outcome.interrupted {
            return Err(RunError::Interrupted("a signal during the load".into()));
        }
        if let Some(e) = observed.as_ref().and_then(Observed::first_error) {
            return Err(RunError::Fault(format!(
                "could not {} {}: {}",
                e.action,
                e.fault,
                e.error.as_deref().unwrap_or("")
            )));
        }
        Ok((base_url, outcome, observed))
    }
    .await;

    // Stop in reverse order on every path.
    if let Some(s) = sut.take() {
        if let Err(e) = s.stop(Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "stopping the SUT");
        }
    }
    let backend = env.as_ref().map(|e| e.backend().to_string());
    if let Some(e) = env.take() {
        if let Err(err) = e.shutdown().await {
            tracing::warn!(error = %err, "environment shutdown");
        }
    }
    let (base_url, outcome, observed) = result?;
    if outcome.recorded.requests == 0 {
        return Err(RunError::NoData);
    }

    let bar = progress.phase("scoring", "budgets");
    let results = assemble::results(assemble::Inputs {
        plan: &plan,
        run_id,
        started_at: wall,
        base_url,
        backend,
        outcome,
        observed,
        versions,
    });
    // Every format, so CI, people and tools each find theirs in reports/<run-id>/.
    crate::report::files::write(&results, &dir, &crate::report::export::FORMATS)?;
    assemble::point_latest(&plan.reports_dir, &dir);
    bar.finish(&format!(
        "{} in {:.1}s",
        if results.verdict.passed {
            "PASS"
        } else {
            "FAIL"
        },
        started_at.elapsed().as_secs_f64()
    ));
    Ok(RunOutcome { results, dir })
}

/// Runs `f` unless a signal comes first.
async fn interruptible<T>(f: impl std::future::Future<Output = T>) -> Result<T, RunError> {
    tokio::select! {
        v = f => Ok(v),
        s = shutdown::signalled() => Err(RunError::Interrupted(s.to_string())),
    }
}
