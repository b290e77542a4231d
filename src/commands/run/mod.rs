//! `harness run`: one run from a validated plan to written results, and the run every
//! other load command builds on (each run of `harness chaos`, the probes of `harness
//! capacity`, the shards `harness merge` adds up). It builds the SUT, brings up the
//! environment, starts the SUT through the proxies, waits for `/ready`, loads, drives the
//! faults, scores and writes every report. Every process and container it starts is
//! stopped on every path out, Ctrl-C included.

pub mod assemble;
mod plan;
mod stand;

pub use assemble::{machine_info, run_id};
pub use plan::RunOptions;
pub(crate) use plan::{scored_budgets, ShardTargets};
pub use stand::Stand;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::session::{Observer, Step};

use crate::chaos::driver::{self, Observed};
use crate::chaos::ChaosSpec;
use crate::environment::{EnvConfig, EnvError};
use crate::load::{self, Chatter, LoadError, LoadPlan, LoadShape};
use crate::results::{EventAction, Results};
use crate::scenario::Scenario;
use crate::scoring::Budget;
use crate::service::{BuildProfile, ServiceError};
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
    /// The profile, settled: stages, peak users, warm-up and the scored window.
    pub shape: LoadShape,
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
    /// Where the load generator's own output goes.
    pub chatter: Chatter,
    /// `harness chaos`: the faults, phases and expectations.
    pub chaos: Option<ChaosSpec>,
    /// The scenario's feeder rows, loaded.
    pub feeder: Option<std::sync::Arc<crate::scenario::Feeder>>,
    /// `--abandon-after` and `--abandon-share`: clients that give up mid-flight.
    pub abandon: Option<load::Abandon>,
    /// `--slo`: the objectives goodput counts against.
    pub slo: Option<crate::record::Slo>,
    /// `--shard I/N`: one part of a split load, recorded for `harness merge`.
    pub shard: Option<ShardRun>,
    /// `--sut-listen`: where the SUT the harness starts listens (default: loopback, a
    /// free port).
    pub sut_listen: Option<std::net::SocketAddr>,
}

/// How late a chaos shard may start its schedule: less than the one-second resolution
/// its phases are scored at.
const CHAOS_LATE_START: Duration = Duration::from_millis(500);

/// One shard of a split load: `shape` is already its share. It writes its record to
/// `reports/<run_id>/shard-<I>/` and scores nothing; `harness merge` scores the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRun {
    /// Which shard.
    pub shard: load::Shard,
    /// The run id every shard of the run shares.
    pub run_id: String,
    /// `--start-at`: the moment every shard starts its schedule.
    pub start_at: Option<std::time::SystemTime>,
}

impl ShardRun {
    /// Where this shard's record goes, under the run's directory.
    pub fn dir_name(&self) -> String {
        format!("shard-{}", self.shard.index)
    }
}

impl RunPlan {
    /// The load generator's plan for this run against `base_url`, its clock started at
    /// `epoch`: what `run`, each capacity probe and each gate block load with.
    pub fn load_plan(
        &self,
        base_url: &str,
        epoch: Instant,
        connections: Option<load::Connections>,
    ) -> LoadPlan {
        let secret = self.jwt_secret.clone();
        let roles = self.scenario.roles.clone();
        LoadPlan {
            scenario: self.scenario.clone(),
            shape: self.shape.clone(),
            base_url: base_url.to_owned(),
            mint: Box::new(move |i| assemble::mint(&secret, i, &roles)),
            epoch,
            chatter: self.chatter,
            feeder: self.feeder.clone(),
            abandon: self.abandon,
            slo: self.slo,
            shard: self.shard.as_ref().map_or(load::Shard::WHOLE, |s| s.shard),
            connections,
        }
    }
}

/// Why a run could not produce a verdict (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The environment failed.
    #[error("environment")]
    Env(#[from] EnvError),
    /// The SUT failed to build, start or become ready.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The load generator failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Writing results failed.
    #[error("{path}: cannot write")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A report could not be written.
    #[error(transparent)]
    Report(#[from] crate::report::files::ReportError),
    /// Ctrl-C or SIGTERM.
    #[error("interrupted by {0}; everything started has been stopped")]
    Interrupted(String),
    /// A fault could not be applied or removed, so the run does not show its effect.
    #[error("fault layer: could not {action} {fault}: {why}")]
    Fault {
        /// Apply or remove.
        action: EventAction,
        /// The fault.
        fault: String,
        /// What the fault layer or LLM fake said.
        why: String,
    },
    /// A chaos shard reached `--start-at` too late for its phases to line up.
    #[error(
        "this shard was ready {:.1} s after --start-at, so its fault phases would not line up \
         with the other shards': give a later --start-at",
        .0.as_secs_f64()
    )]
    LateStart(Duration),
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
pub async fn execute(plan: RunPlan, observer: &dyn Observer) -> Result<RunOutcome, RunError> {
    let started_at = Instant::now();
    let wall = assemble::now_rfc3339();
    let mut run_id = assemble::run_id(&plan.scenario.name, &plan.profile_name);
    if let Some(c) = &plan.chaos {
        run_id = format!("{run_id}-{}", crate::chaos::label(&c.faults));
    }
    let dir = match &plan.shard {
        Some(s) => {
            run_id = s.run_id.clone();
            plan.reports_dir.join(&run_id).join(s.dir_name())
        }
        None => plan.reports_dir.join(&run_id),
    };
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Write {
        path: dir.clone(),
        source,
    })?;

    let mut stand = Stand::up(&plan, &dir, observer).await?;
    let result = async {
        let base_url = stand.base_url.clone();
        let load_step = Step::Load {
            planned: plan.shape.planned(),
            peak_users: plan.shape.peak_users,
            peak_rate: plan
                .shape
                .open
                .map(|_| plan.shape.peak_rate().ceil() as u32),
        };
        observer.started(load_step);
        // Opened before any --start-at wait, so that the shard starts on time.
        let connections = interruptible(load::connect(&base_url, &plan.shape)).await??;
        if let Some(at) = plan.shard.as_ref().and_then(|s| s.start_at) {
            match at.duration_since(std::time::SystemTime::now()) {
                Ok(wait) => interruptible(tokio::time::sleep(wait)).await?,
                // Chaos phases are scored by the second across shards: one that starts
                // late would put its requests in the wrong phase.
                Err(late) if plan.chaos.is_some() && late.duration() > CHAOS_LATE_START => {
                    return Err(RunError::LateStart(late.duration()))
                }
                Err(late) => tracing::warn!(
                    late_ms = late.duration().as_millis() as u64,
                    "this shard started its schedule after --start-at"
                ),
            }
        }
        let epoch = Instant::now();
        let load_plan = plan.load_plan(&base_url, epoch, connections);
        let (outcome, observed) = match (&plan.chaos, stand.env.as_ref()) {
            (Some(spec), Some(e)) => {
                let (done_tx, done_rx) = tokio::sync::watch::channel(false);
                let load = async {
                    let r = load::run(load_plan).await;
                    let _ = done_tx.send(true);
                    r
                };
                let profile = &plan.env.llm.profile;
                let drive = driver::drive(spec, e, &base_url, epoch, profile, done_rx);
                let (r, mut seen) = tokio::join!(load, drive);
                seen.alerts = e
                    .alerting()
                    .map(|a| crate::chaos::alerts::notices(&a.received(), epoch));
                seen.unscraped = stand.unscraped.clone();
                (r?, Some(seen))
            }
            _ => (load::run(load_plan).await?, None),
        };
        observer.finished(
            load_step,
            &format!("{} transactions", outcome.recorded.totals.requests),
        );
        if outcome.interrupted {
            return Err(RunError::Interrupted("a signal during the load".into()));
        }
        if let Some(e) = observed.as_ref().and_then(Observed::first_error) {
            return Err(RunError::Fault {
                action: e.action,
                fault: e.fault.clone(),
                why: e.error.clone().unwrap_or_default(),
            });
        }
        Ok((base_url, outcome, observed))
    }
    .await;

    let backend = stand.backend();
    let versions = std::mem::take(&mut stand.versions);
    stand.down().await;
    let (base_url, outcome, observed) = result?;
    if outcome.recorded.totals.requests == 0 {
        return Err(RunError::NoData);
    }

    observer.started(Step::Scoring);
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
    // Shards of one run finish side by side; `latest` is for the merged run.
    if plan.shard.is_none() {
        assemble::point_latest(&plan.reports_dir, &dir);
    }
    observer.finished(
        Step::Scoring,
        &format!(
            "{} in {:.1}s",
            if results.verdict.passed {
                "PASS"
            } else {
                "FAIL"
            },
            started_at.elapsed().as_secs_f64()
        ),
    );
    Ok(RunOutcome { results, dir })
}

/// Runs `f` unless a signal comes first.
pub(crate) async fn interruptible<T>(
    f: impl std::future::Future<Output = T>,
) -> Result<T, RunError> {
    tokio::select! {
        v = f => Ok(v),
        s = shutdown::signalled() => Err(RunError::Interrupted(s.to_string())),
    }
}
