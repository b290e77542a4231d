//! The load phase: a Goose attack built in code from a scenario and profile (no Goose
//! command line is parsed), whose users send samples to one collector.

mod shape;
mod transaction;

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::Scenario as GooseScenario;
use goose::GooseAttack;

use crate::record::{self, Recorded};
use crate::scenario::Scenario;

pub use shape::LoadShape;
pub use transaction::UserState;

/// What the load phase needs.
pub struct LoadPlan {
    /// The scenario.
    pub scenario: Scenario,
    /// The settled profile.
    pub shape: LoadShape,
    /// Base URL of the SUT.
    pub base_url: String,
    /// Mints a bearer token for user `i`.
    pub mint: Box<dyn Fn(usize) -> String + Send + Sync>,
    /// The start of the load phase, which sample times count from (shared with
    /// whatever else watches the run, such as the chaos driver).
    pub epoch: Instant,
    /// Where Goose's own output goes.
    pub chatter: Chatter,
}

/// Load that could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Goose refused the configuration or failed.
    #[error("load generator: {0}")]
    Goose(String),
}

impl From<goose::GooseError> for LoadError {
    fn from(e: goose::GooseError) -> Self {
        LoadError::Goose(format!("{e:?}"))
    }
}

/// What the load phase measured.
pub struct LoadOutcome {
    /// Histograms and timelines.
    pub recorded: Recorded,
    /// How long the load phase took.
    pub elapsed: Duration,
    /// Requests Goose itself counted (a cross-check on ours).
    pub goose_requests: usize,
    /// How coordinated omission was handled, for the report.
    pub coordinated_omission: String,
    /// Whether the load was stopped early (Ctrl-C).
    pub interrupted: bool,
}

/// The expected interval for coordinated-omission correction: the shortest think time.
/// A closed-model user that keeps its schedule sends at least that often, so a response
/// slower than it hid requests the user would have sent.
pub fn co_interval(scenario: &Scenario) -> Option<Duration> {
    let min = scenario.think_time.min;
    (!min.is_zero()).then_some(min)
}

/// Runs the attack and collects every sample. Returns when the attack is over and the
/// collector has drained.
pub async fn run(plan: LoadPlan) -> Result<LoadOutcome, LoadError> {
    let co = co_interval(&plan.scenario);
    let warmup = plan.shape.warmup;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = tokio::spawn(record::collect(rx, co, warmup, plan.shape.scored_until));
    let shared = Arc::new(transaction::Shared {
        samples: tx,
        started: plan.epoch,
        mint: plan.mint,
    });

    let mut scenario = GooseScenario::new(&plan.scenario.name)
        .register_transaction(transaction::on_start(shared.clone()));
    let think = plan.scenario.think_time;
    if !think.max.is_zero() {
        scenario = scenario.set_wait_time(think.min, think.max)?;
    }
    for spec in &plan.scenario.transactions {
        let t = transaction::transaction(Arc::new(spec.clone()), shared.clone())
            .set_weight(spec.weight as usize)?;
        scenario = scenario.register_transaction(t);
    }
    // Only the transactions hold senders now; the collector ends when they are dropped.
    drop(shared);

    let timeout = plan.scenario.request_timeout.as_secs().max(1).to_string();
    let mut config = GooseConfiguration::default();
    // Goose 0.18 never applies GooseDefault::Iterations (the configuration's 0 always
    // wins), so iterations go into the configuration itself.
    let tp = plan.shape.goose_test_plan();
    if let Some(n) = plan.shape.iterations {
        config.iterations = n as usize;
    }
    let mut attack = GooseAttack::initialize_with_config(config)?
        .register_scenario(scenario)
        .set_default(GooseDefault::Host, plan.base_url.as_str())?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::NoWebSocket, true)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::NoErrorSummary, true)?
        .set_default(GooseDefault::Timeout, timeout.as_str())?
        .set_default(GooseDefault::Quiet, 1)?;
    match tp {
        Some(tp) => {
            attack = attack.set_default(GooseDefault::TestPlan, tp.as_str())?;
        }
        None => {
            let users = plan.shape.peak_users.max(1) as usize;
            let rate = plan.shape.spawn_rate.to_string();
            attack = attack
                .set_default(GooseDefault::Users, users)?
                .set_default(GooseDefault::HatchRate, rate.as_str())?;
        }
    }

    let started = Instant::now();
    // Goose catches SIGINT itself; SIGTERM (and SIGINT, should Goose's handler not be
    // installed) ends the attack through the same kill switch, so the run still cleans up.
    let watcher = tokio::spawn(async {
        let s = crate::shutdown::signalled().await;
        goose::trigger_killswitch(&s.to_string());
    });
    let metrics = {
        let _aside = StdoutAside::redirect(plan.chatter);
        attack.execute().await
    };
    watcher.abort();
    let metrics = metrics?;
    let elapsed = started.elapsed();
    let interrupted = goose::is_killswitch_triggered();
    let goose_requests = metrics
        .requests
        .values()
        .map(|r| r.success_count + r.fail_count)
        .sum();
    // Goose drops its users (and their senders) when execute returns.
    let recorded = collector
        .await
        .map_err(|e| LoadError::Goose(format!("collector: {e}")))?;
    let coordinated_omission = match co {
        Some(i) => format!(
            "corrected: closed-model users with think time {:?}–{:?}; each end-to-end sample is \
             recorded with HdrHistogram record_correct at an expected interval of {i:?} (the \
             shortest think time). `overall_raw` keeps the uncorrected values; Server-Timing \
             operation histograms are the SUT's own times and are not corrected.",
            think.min, think.max
        ),
        None => {
            "not corrected: the scenario has no think time, so users send back to back and \
                 there is no schedule to fall behind; each sample is the response time as measured."
                .into()
        }
    };
    Ok(LoadOutcome {
        recorded,
        elapsed,
        goose_requests,
        coordinated_omission,
        interrupted,
    })
}

/// Where the load generator's own chatter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chatter {
    /// To stderr, beside the progress bars.
    #[default]
    Stderr,
    /// Nowhere (`--quiet`).
    Silenced,
}

/// Points the process's stdout at stderr, or at nothing, while it lives. Goose prints
/// "N users hatched." to stdout whatever its configuration says, and stdout belongs to
/// `--json`.
struct StdoutAside {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StdoutAside {
    fn redirect(to: Chatter) -> Self {
        use std::io::Write;
        use std::os::fd::{AsFd, AsRawFd};
        let _ = std::io::stdout().flush();
        let stdout = std::io::stdout();
        let null = match to {
            Chatter::Silenced => match std::fs::OpenOptions::new().write(true).open("/dev/null") {
                Ok(f) => Some(f),
                Err(_) => return StdoutAside { saved: None },
            },
            Chatter::Stderr => None,
        };
        let Ok(saved) = nix::unistd::dup(stdout.as_fd().as_raw_fd()) else {
            return StdoutAside { saved: None };
        };
        let target = match &null {
            Some(f) => f.as_fd().as_raw_fd(),
            None => std::io::stderr().as_fd().as_raw_fd(),
        };
        if nix::unistd::dup2(target, stdout.as_fd().as_raw_fd()).is_err() {
            let _ = nix::unistd::close(saved);
            return StdoutAside { saved: None };
        }
        // SAFETY: `saved` is a fresh descriptor from dup, owned by nobody else.
        let saved = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(saved) };
        StdoutAside { saved: Some(saved) }
    }
}

impl Drop for StdoutAside {
    fn drop(&mut self) {
        use std::io::Write;
        use std::os::fd::{AsFd, AsRawFd};
        if let Some(saved) = self.saved.take() {
            let _ = std::io::stdout().flush();
            let _ = nix::unistd::dup2(saved.as_raw_fd(), std::io::stdout().as_fd().as_raw_fd());
        }
    }
}
