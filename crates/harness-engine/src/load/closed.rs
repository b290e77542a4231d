//! The closed model on Goose: users that send, wait for the answer, think and send
//! again. The attack is built in code from the scenario and profile (no Goose command
//! line is parsed), and its users send samples to one collector.

use std::sync::Arc;
use std::time::Instant;

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::Scenario as GooseScenario;
use goose::GooseAttack;

use super::{transaction, Chatter, LoadError, LoadOutcome, LoadPlan};
use crate::record::{self, Correction};

/// Runs the attack and collects every sample. Returns when the attack is over and the
/// collector has drained.
pub async fn run(plan: LoadPlan) -> Result<LoadOutcome, LoadError> {
    let think = plan.scenario.think_time;
    let correction = Correction::Schedule {
        think_mean: (think.min + think.max) / 2,
    };
    let deadline = super::deadline(&plan).map(|d| plan.epoch + d);
    let warmup = plan.shape.warmup;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = tokio::spawn(record::collect(
        rx,
        correction,
        record::Recorded::scoring(warmup, plan.shape.scored_until).with_slo(plan.slo),
    ));
    let shared = Arc::new(transaction::Shared {
        samples: tx,
        started: plan.epoch,
        mint: plan.mint,
        feeder: plan.feeder.clone(),
        deadline,
        sends_until: plan.shape.planned().map(|p| plan.epoch + p),
        request_timeout: plan.scenario.request_timeout,
        abandon: plan.abandon,
        shard: plan.shard,
    });

    let mut scenario = GooseScenario::new(&plan.scenario.name)
        .register_transaction(transaction::on_start(shared.clone()));
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
        // The harness keeps its own samples; Goose's metrics would build, send and
        // aggregate a second record of every request on the same core.
        .set_default(GooseDefault::NoMetrics, true)?
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
    let executed = {
        let _aside = StdoutAside::redirect(plan.chatter);
        attack.execute().await
    };
    watcher.abort();
    executed?;
    let elapsed = started.elapsed();
    let interrupted = goose::is_killswitch_triggered();
    // Goose drops its users (and their senders) when execute returns.
    let recorded = collector
        .await
        .map_err(|e| LoadError::Task("collector", e))?;
    let coordinated_omission = super::describe_correction(&recorded, think);
    Ok(LoadOutcome {
        recorded,
        elapsed,
        coordinated_omission,
        interrupted,
    })
}

/// Points the process's stdout at stderr, or at nothing, while it lives. Goose prints
/// "N users hatched." to stdout whatever its configuration says, and stdout belongs to
/// `--json`.
pub(super) struct StdoutAside {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StdoutAside {
    pub(super) fn redirect(to: Chatter) -> Self {
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
