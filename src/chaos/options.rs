//! `harness chaos`'s options, validated into run plans before anything starts: the
//! fault flags (or the scenario's `[chaos]` faults, or the matrix), the phase lengths,
//! and the degradation expectations.

use std::time::Duration;

use super::expect;
use super::fault::{parse_duration, parse_rate, parse_status, Fault, Target};
use super::recovery::Band;
use super::spec::{ChaosSpec, Phases, SutLimits, MATRIX};
use crate::llm::FailStatus;
use crate::plan::{fixtures_dir, PlanError};
use crate::run::{RunOptions, RunPlan, TargetPlan};

/// Default phase lengths: long enough, with the seeds' 60 s breaker timeout, for the
/// breaker to open, probe, and close again within the recovery phase.
pub const DEFAULT_PHASES: Phases = Phases {
    baseline: Duration::from_secs(30),
    fault: Duration::from_secs(60),
    recovery: Duration::from_secs(90),
};

/// The raw options, as the CLI (or a test) gives them.
#[derive(Debug, Clone, Default)]
pub struct ChaosOptions {
    /// Everything `harness run` takes.
    pub run: RunOptions,
    /// `--llm-fail RATE`.
    pub llm_fail: Option<String>,
    /// `--llm-error 429|500|529`.
    pub llm_error: Option<String>,
    /// `--llm-latency DURATION`.
    pub llm_latency: Option<String>,
    /// `--llm-timeout`.
    pub llm_timeout: bool,
    /// `--db-latency DURATION`.
    pub db_latency: Option<String>,
    /// `--db-down`.
    pub db_down: bool,
    /// `--redis-latency DURATION`.
    pub redis_latency: Option<String>,
    /// `--redis-down`.
    pub redis_down: bool,
    /// `--bandwidth KBPS` (with `--on`).
    pub bandwidth: Option<String>,
    /// `--slicer` (with `--on`).
    pub slicer: bool,
    /// `--on db|redis|llm`.
    pub on: Option<String>,
    /// `--baseline DURATION`.
    pub baseline: Option<String>,
    /// `--fault-for DURATION`.
    pub fault_for: Option<String>,
    /// `--recovery DURATION`.
    pub recovery: Option<String>,
    /// `--matrix`.
    pub matrix: bool,
    /// `--degradation FILE` (default: `degradation.toml` in the fixtures).
    pub degradation: Option<std::path::PathBuf>,
}

impl ChaosOptions {
    /// The faults the flags ask for, validated; empty when none was given.
    fn flag_faults(&self) -> Result<Vec<Fault>, String> {
        let mut faults = Vec::new();
        match (&self.llm_fail, &self.llm_error) {
            (Some(rate), status) => faults.push(Fault::LlmFail {
                rate: parse_rate("--llm-fail", rate)?,
                status: match status {
                    Some(s) => parse_status("--llm-error", s)?,
                    None => FailStatus::ApiError,
                },
            }),
            (None, Some(_)) => return Err("--llm-error: give --llm-fail RATE as well".into()),
            (None, None) => {}
        }
        if let Some(d) = &self.llm_latency {
            faults.push(Fault::LlmLatency(parse_duration("--llm-latency", d)?));
        }
        if self.llm_timeout {
            faults.push(Fault::LlmTimeout);
        }
        if let Some(d) = &self.db_latency {
            faults.push(Fault::Latency(
                Target::Db,
                parse_duration("--db-latency", d)?,
            ));
        }
        if self.db_down {
            faults.push(Fault::Down(Target::Db));
        }
        if let Some(d) = &self.redis_latency {
            faults.push(Fault::Latency(
                Target::Redis,
                parse_duration("--redis-latency", d)?,
            ));
        }
        if self.redis_down {
            faults.push(Fault::Down(Target::Redis));
        }
        let on = || -> Result<Target, String> {
            match &self.on {
                Some(t) => Target::parse("--on", t),
                None => Err("--on: say which dependency (db, redis or llm)".into()),
            }
        };
        if let Some(k) = &self.bandwidth {
            let kbps = match k.trim().parse::<u32>() {
                Ok(v) if v > 0 => v,
                _ => {
                    return Err(format!(
                        "--bandwidth: '{k}' is not a positive number of KB/s"
                    ))
                }
            };
            faults.push(Fault::Bandwidth(
                on().map_err(|e| format!("--bandwidth: {e}"))?,
                kbps,
            ));
        }
        if self.slicer {
            faults.push(Fault::Slicer(on().map_err(|e| format!("--slicer: {e}"))?));
        }
        if self.on.is_some() && self.bandwidth.is_none() && !self.slicer {
            return Err("--on: only with --bandwidth or --slicer".into());
        }
        Ok(faults)
    }

    /// Validates everything into one plan per run: one, or one per matrix fault.
    pub fn into_plans(self) -> Result<Vec<(String, RunPlan)>, PlanError> {
        let flagged = self.flag_faults().map_err(PlanError)?;
        if self.matrix && !flagged.is_empty() {
            return Err(PlanError(
                "--matrix runs every fault in turn; leave out the fault flags".into(),
            ));
        }
        let degradation = self.degradation.clone();
        let (baseline, fault_for, recovery) = (
            self.baseline.clone(),
            self.fault_for.clone(),
            self.recovery.clone(),
        );
        let matrix = self.matrix;
        let fixtures = fixtures_dir(&self.run.env.fixtures);
        let mut base = self.run.into_plan()?;
        if let TargetPlan::Url(_) = base.target {
            return Err(PlanError(
                "--sut-url: faults need the harness's own environment; use --sut-cmd".into(),
            ));
        }
        let section = base.scenario.chaos.clone().unwrap_or_default();
        let pick =
            |flag: &str, given: &Option<String>, scenario: Option<Duration>, default| match given {
                Some(v) => parse_duration(flag, v).map_err(PlanError),
                None => Ok(scenario.unwrap_or(default)),
            };
        let phases = Phases {
            baseline: pick(
                "--baseline",
                &baseline,
                section.baseline,
                DEFAULT_PHASES.baseline,
            )?,
            fault: pick(
                "--fault-for",
                &fault_for,
                section.fault,
                DEFAULT_PHASES.fault,
            )?,
            recovery: pick(
                "--recovery",
                &recovery,
                section.recovery,
                DEFAULT_PHASES.recovery,
            )?,
        };
        let settle = base.profile.ramp_time() + base.profile.warmup.unwrap_or_default();
        if phases.baseline < settle + Duration::from_secs(2) {
            return Err(PlanError(format!(
                "--baseline: {} leaves no baseline after the ramp and warm-up ({}); give at \
                 least {}",
                humantime::format_duration(phases.baseline),
                humantime::format_duration(settle),
                humantime::format_duration(settle + Duration::from_secs(2)),
            )));
        }
        let band = Band::default();
        let min_recovery = Duration::from_secs((band.window_s + band.consecutive) as u64);
        if phases.recovery < min_recovery || phases.fault < Duration::from_secs(1) {
            return Err(PlanError(format!(
                "--recovery: at least {} to tell whether the service came back; --fault-for: at least 1s",
                humantime::format_duration(min_recovery)
            )));
        }
        let limits = SutLimits::from_env(&base.scenario.sut_env)
            .map_err(|m| PlanError(format!("{}: {m}", base.scenario_file.display())))?;
        let path = degradation.unwrap_or_else(|| fixtures.join("degradation.toml"));
        let expectations =
            expect::load(&path, &limits, &base.budgets).map_err(|e| PlanError(e.to_string()))?;

        let runs: Vec<Vec<Fault>> = if matrix {
            MATRIX
                .iter()
                .map(|s| Fault::parse_spec("matrix", s).map(|f| vec![f]))
                .collect::<Result<_, _>>()
                .map_err(PlanError)?
        } else if !flagged.is_empty() {
            vec![flagged]
        } else if !section.faults.is_empty() {
            let faults = section
                .faults
                .iter()
                .map(|s| Fault::parse_spec("", s))
                .collect::<Result<_, _>>()
                .map_err(PlanError)?;
            vec![faults]
        } else {
            return Err(PlanError(format!(
                "no fault: give one (--llm-fail 1.0, --db-down, …), --matrix, or [chaos] faults \
                 in {}",
                base.scenario_file.display()
            )));
        };
        base.profile = base.profile.held_for(phases.total());
        Ok(runs
            .into_iter()
            .map(|faults| {
                let label = faults.iter().map(Fault::kind).collect::<Vec<_>>().join("+");
                let mut plan = base.clone();
                plan.chaos = Some(ChaosSpec {
                    faults,
                    phases,
                    expectations: expectations.clone(),
                    band,
                    limits,
                });
                (label, plan)
            })
            .collect())
    }
}
