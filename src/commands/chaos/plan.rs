//! `harness chaos`'s options, validated into run plans before anything starts: the
//! faults (from the flags, the scenario's `[chaos]`, or the matrix), the phase lengths,
//! and the degradation expectations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chaos::alerts::expect as alert_expect;
use crate::chaos::alerts::rules::{self, SHORTENED_BY};
use crate::chaos::alerts::{AlertSpec, Windows, EVERY};
use crate::chaos::expect::Context;
use crate::chaos::{expect, Band, ChaosSpec, Expectation, Phases, SutLimits};
use crate::commands::run::{RunOptions, RunPlan, ShardTargets, TargetPlan};
use crate::faults::{self, Fault};
use crate::plan::{fixtures_dir, PlanError};
use crate::scenario::Scenario;
use crate::scoring::Budget;

/// Default phase lengths: long enough, with the seeds' 60 s breaker timeout, for the
/// breaker to open, probe, and close again within the recovery phase.
pub const DEFAULT_PHASES: Phases = Phases {
    baseline: Duration::from_secs(30),
    fault: Duration::from_secs(60),
    recovery: Duration::from_secs(90),
};

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone, Default)]
pub struct ChaosOptions {
    /// Everything `harness run` takes.
    pub run: RunOptions,
    /// The faults the flags ask for; empty when none was given.
    pub faults: Vec<Fault>,
    /// `--baseline`.
    pub baseline: Option<Duration>,
    /// `--fault-for`.
    pub fault_for: Option<Duration>,
    /// `--recovery`.
    pub recovery: Option<Duration>,
    /// `--matrix`.
    pub matrix: bool,
    /// `--matrix-only KIND,…`: the matrix's rows of these fault kinds alone.
    pub matrix_only: Vec<String>,
    /// `--degradation FILE` (default: `degradation.toml` in the fixtures).
    pub degradation: Option<PathBuf>,
    /// Whether the alert components run, with which windows and rules.
    pub alerts: AlertChoice,
}

/// `--no-alerts`, or the alert components with `--alert-windows` and `--alert-rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertChoice {
    /// No Prometheus or Alertmanager.
    Off,
    /// Prometheus and Alertmanager with these rules.
    On {
        /// `--alert-windows` (default: the seeds' with the full profile, else short).
        windows: Option<Windows>,
        /// `--alert-rules DIR` (default: `alerts/` in the fixtures).
        rules: Option<PathBuf>,
    },
}

impl Default for AlertChoice {
    fn default() -> Self {
        AlertChoice::On {
            windows: None,
            rules: None,
        }
    }
}

/// One planned chaos run: its label (the fault kinds) and its plan.
pub type LabelledPlan = (String, RunPlan);

impl ChaosOptions {
    /// Validates everything into one plan per run: one, or one per matrix fault.
    pub fn into_plans(self) -> Result<Vec<LabelledPlan>, PlanError> {
        if self.matrix && !self.faults.is_empty() {
            return Err(PlanError::Value {
                flag: "--matrix",
                why: "it runs every fault in turn; leave out the fault flags".into(),
            });
        }
        if self.matrix && self.run.shard.is_some() {
            return Err(PlanError::Value {
                flag: "--shard",
                why: "shards one chaos run, and --matrix makes several: shard each fault's \
                      run on its own (--llm-fail 1.0, --db-down, …)"
                    .into(),
            });
        }
        let fixtures = fixtures_dir(&self.run.env.fixtures);
        let mut base = self.run.into_plan_for(ShardTargets::FirstDrives)?;
        match (&base.target, &base.shard) {
            (TargetPlan::Url(_), None) => {
                return Err(PlanError::Value {
                    flag: "--sut-url",
                    why: "faults need the harness's own environment; use --sut-cmd".into(),
                })
            }
            (_, Some(s)) if s.shard.count > 1 && s.start_at.is_none() => {
                return Err(PlanError::Value {
                    flag: "--shard",
                    why: "needs --start-at: every shard's fault phases must start at the same \
                          instant"
                        .into(),
                })
            }
            _ => {}
        }
        let section = base.scenario.chaos.clone().unwrap_or_default();
        let phases = Phases {
            baseline: self
                .baseline
                .or(section.baseline)
                .unwrap_or(DEFAULT_PHASES.baseline),
            fault: self
                .fault_for
                .or(section.fault)
                .unwrap_or(DEFAULT_PHASES.fault),
            recovery: self
                .recovery
                .or(section.recovery)
                .unwrap_or(DEFAULT_PHASES.recovery),
        };
        // The run's budgets are scored over the baseline as its phase is.
        let held = base.shape.held_for(phases.total(), phases.baseline_end());
        let settle = held.ramp + held.warmup;
        let least = settle + Duration::from_secs(2);
        if phases.baseline < least {
            return Err(PlanError::Value {
                flag: "--baseline",
                why: format!(
                    "{} leaves no baseline after the ramp and warm-up ({}); give at least {}",
                    humantime::format_duration(phases.baseline),
                    humantime::format_duration(settle),
                    humantime::format_duration(least),
                ),
            });
        }
        let band = Band::default();
        let min_recovery = Duration::from_secs((band.window_s + band.consecutive) as u64);
        if phases.recovery < min_recovery || phases.fault < Duration::from_secs(1) {
            return Err(PlanError::Value {
                flag: "--recovery",
                why: format!(
                    "at least {} to tell whether the service came back; --fault-for: at least 1s",
                    humantime::format_duration(min_recovery)
                ),
            });
        }
        let degradation = self
            .degradation
            .clone()
            .unwrap_or_else(|| fixtures.join("degradation.toml"));
        let (limits, expectations) = judged(
            &base.scenario,
            &base.scenario_file,
            &base.budgets,
            &fixtures,
            Some(&degradation),
        )?;
        let alerts = match &self.alerts {
            AlertChoice::Off => None,
            AlertChoice::On { windows, rules } => {
                let windows = windows.unwrap_or(if base.profile_name == "full" {
                    Windows::Seed
                } else {
                    Windows::Shortened(SHORTENED_BY)
                });
                let dir = rules.clone().unwrap_or_else(|| fixtures.join("alerts"));
                Some(alert_spec(
                    &dir,
                    windows,
                    &degradation,
                    &limits,
                    &base.budgets,
                )?)
            }
        };
        // The driving shard (or the only one) owns the alert components.
        if let (Some(a), false) = (&alerts, matches!(base.target, TargetPlan::Url(_))) {
            base.env.alerts = Some(a.config());
        }

        let runs: Vec<Vec<Fault>> = if self.matrix {
            let kinds: Vec<&str> = faults::matrix().map(|f| f.kind()).collect();
            if let Some(k) = self
                .matrix_only
                .iter()
                .find(|k| !kinds.contains(&k.as_str()))
            {
                return Err(PlanError::Value {
                    flag: "--matrix-only",
                    why: format!("'{k}' is not a fault of the matrix ({})", kinds.join(", ")),
                });
            }
            faults::matrix()
                .filter(|f| {
                    self.matrix_only.is_empty() || self.matrix_only.iter().any(|k| k == f.kind())
                })
                .map(|f| vec![f])
                .collect()
        } else if !self.faults.is_empty() {
            vec![self.faults]
        } else if !section.faults.is_empty() {
            vec![section.faults]
        } else {
            return Err(PlanError::NoFault(base.scenario_file));
        };
        base.shape = held;
        Ok(runs
            .into_iter()
            .map(|faults| {
                let label = crate::chaos::label(&faults);
                let mut plan = base.clone();
                plan.chaos = Some(ChaosSpec {
                    faults,
                    phases,
                    expectations: expectations.clone(),
                    band,
                    limits,
                    alerts: alerts.clone(),
                });
                (label, plan)
            })
            .collect())
    }
}

/// The alert rules of `dir` with `windows`, and the `[[alert]]` expectations of
/// `degradation` checked against them: for `harness chaos`, and for `harness merge` of
/// its shards.
pub(crate) fn alert_spec(
    dir: &Path,
    windows: Windows,
    degradation: &Path,
    limits: &SutLimits,
    budgets: &[Budget],
) -> Result<AlertSpec, PlanError> {
    let rules = rules::load(dir, windows)?;
    let cx = Context {
        limits,
        budgets,
        open_span: Duration::ZERO,
    };
    let expectations = alert_expect::load(degradation, &rules, EVERY, &cx)?;
    Ok(AlertSpec {
        rules,
        expectations,
        every: EVERY,
    })
}

/// The SUT's resilience settings (from the scenario's `[sut_env]`) and the expectations
/// of `degradation` (default: `degradation.toml` in `fixtures`) that a chaos run of
/// `scenario` is judged by: for `harness chaos`, and for `harness merge` of its shards.
pub(crate) fn judged(
    scenario: &Scenario,
    file: &Path,
    budgets: &[Budget],
    fixtures: &Path,
    degradation: Option<&Path>,
) -> Result<(SutLimits, Vec<Expectation>), PlanError> {
    let limits = SutLimits::from_env(&scenario.sut_env)
        .map_err(|e| PlanError::Setting(file.display().to_string(), e))?;
    let path = degradation.map_or_else(|| fixtures.join("degradation.toml"), Path::to_owned);
    let expectations = expect::load(&path, &limits, budgets)?;
    Ok((limits, expectations))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Target;

    fn options(profile: &str, baseline: Option<Duration>) -> ChaosOptions {
        ChaosOptions {
            run: RunOptions {
                scenario: "seed-mix".into(),
                profile: profile.into(),
                reports: std::env::temp_dir().join("harness-plan-tests"),
                ..RunOptions::default()
            },
            faults: vec![Fault::Down(Target::Redis)],
            baseline,
            ..ChaosOptions::default()
        }
    }

    #[test]
    fn matrix_only_takes_the_matrix_kinds_and_names_one_it_lacks() {
        let plans = ChaosOptions {
            faults: Vec::new(),
            matrix: true,
            matrix_only: vec!["db-down".into(), "redis-down".into()],
            ..options("smoke", None)
        }
        .into_plans()
        .expect("plans");
        let labels: Vec<&str> = plans.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["db-down", "redis-down"]);
        let Err(err) = (ChaosOptions {
            faults: Vec::new(),
            matrix: true,
            matrix_only: vec!["llm-stream".into()],
            ..options("smoke", None)
        })
        .into_plans() else {
            panic!("llm-stream is not a matrix kind")
        };
        let err = err.to_string();
        assert!(
            err.contains("--matrix-only") && err.contains("'llm-stream'"),
            "{err}"
        );
    }

    #[test]
    fn the_baseline_must_outlast_the_ramp_the_run_really_has() {
        // seed-mix/full ramps to 100 users at 5/s, then to 500: held at 500 users, they
        // take 100 s to arrive (then a 10 s warm-up), so a 30 s baseline would be measured
        // mid-ramp.
        let Err(e) = options("full", None).into_plans() else {
            panic!("a 30 s baseline passed");
        };
        let e = e.to_string();
        assert!(e.starts_with("--baseline: 30s leaves no baseline"), "{e}");
        assert!(e.contains("(1m 50s)"), "{e}");
        let Ok(plans) = options("full", Some(Duration::from_secs(120))).into_plans() else {
            panic!("a 120 s baseline is long enough");
        };
        let (label, plan) = &plans[0];
        assert_eq!(label, "redis-down");
        assert_eq!(plan.shape.ramp, Duration::from_secs(100));
        assert_eq!(plan.shape.scored_until, Some(Duration::from_secs(119)));
    }

    #[test]
    fn the_budgets_are_scored_over_the_baseline_its_phase_scores() {
        // In CI, one stream of a `--llm-stream truncate:3` run was sent just before the
        // fault went in and met it: its error failed the run's error-rate budget, while
        // the baseline phase, which stops a second before the fault, had none.
        let plans = options("smoke", None).into_plans().expect("plans");
        let (_, plan) = &plans[0];
        let phases = plan.chaos.as_ref().expect("a chaos plan").phases;
        assert_eq!(plan.shape.scored_until, Some(phases.baseline_end()));
        assert_eq!(
            phases.baseline_end() + crate::chaos::spec::BASELINE_GUARD,
            phases.fault_start()
        );
    }
}
