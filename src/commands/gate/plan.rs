//! `harness gate`'s options, validated into a [`GatePlan`] before anything is built or
//! started: the two sides, the run every block makes, the thresholds and the stopping
//! rule.

use std::time::Duration;

use crate::commands::run::{RunOptions, RunPlan, TargetPlan};
use crate::load::LoadShape;
use crate::plan::PlanError;
use crate::results::{GateSettingsInfo, InconclusivePolicy};
use crate::scenario::{Arrival, Model, Profile};
use crate::scoring::gate::{GateSettings, MIN_PAIRS};

/// How one side is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SidePlan {
    /// `--base-cmd`/`--head-cmd`: a command started with the contract's environment.
    Command(String),
    /// `--base`/`--head`: a git ref of this checkout, built into a worktree.
    GitRef(String),
}

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// `--base`.
    pub base_ref: Option<String>,
    /// `--head`.
    pub head_ref: Option<String>,
    /// `--base-cmd`.
    pub base_cmd: Option<String>,
    /// `--head-cmd`.
    pub head_cmd: Option<String>,
    /// `--scenario`, `--reports`, `--budget`, the environment and the SUT's start-up:
    /// what every block's run takes.
    pub run: RunOptions,
    /// `--rate`: open-model arrivals a second.
    pub rate: f64,
    /// `--block`: each block's scored length.
    pub block: Duration,
    /// `--warmup`: each block's unscored start.
    pub warmup: Duration,
    /// `--min-pairs`: pairs before the first look.
    pub min_pairs: u32,
    /// `--max-pairs`.
    pub max_pairs: u32,
    /// `--max-duration`.
    pub max_duration: Duration,
    /// `--max-regression`, a fraction.
    pub max_regression: f64,
    /// `--max-share-change`, a fraction (0.01 is one point).
    pub max_share_change: f64,
    /// `--min-delta`: a latency change smaller than this is no change.
    pub min_delta: Duration,
    /// `--alpha`.
    pub alpha: f64,
    /// `--inconclusive`.
    pub inconclusive: InconclusivePolicy,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            base_ref: None,
            head_ref: None,
            base_cmd: None,
            head_cmd: None,
            run: RunOptions {
                scenario: "seed-mix".into(),
                ..RunOptions::default()
            },
            rate: 50.0,
            block: Duration::from_secs(20),
            warmup: Duration::from_secs(3),
            min_pairs: 4,
            max_pairs: 10,
            max_duration: Duration::from_secs(600),
            max_regression: 0.05,
            max_share_change: 0.01,
            min_delta: Duration::from_micros(50),
            alpha: 0.05,
            inconclusive: InconclusivePolicy::Fail,
        }
    }
}

/// A validated gate.
#[derive(Clone)]
pub struct GatePlan {
    /// The side judged against.
    pub base: SidePlan,
    /// The change.
    pub head: SidePlan,
    /// The run every block makes, its target set per block.
    pub run: RunPlan,
    /// The statistics' settings.
    pub stats: GateSettings,
    /// Pairs before the first look.
    pub min_pairs: u32,
    /// The most pairs.
    pub max_pairs: u32,
    /// The longest the gate may run.
    pub max_duration: Duration,
    /// What an INCONCLUSIVE gate exits with.
    pub inconclusive: InconclusivePolicy,
    /// Open-model arrivals a second.
    pub rate: f64,
    /// Each block's unscored start.
    pub warmup: Duration,
    /// Each block's scored length.
    pub block: Duration,
    /// How a git ref's `sut` is built.
    pub build: crate::service::BuildProfile,
}

impl GatePlan {
    /// The pair counts at which the gate judges: `min_pairs`, then evenly up to
    /// `max_pairs`, each even, `stats.looks` of them at most.
    pub fn look_at(&self) -> Vec<u32> {
        let looks = self.stats.looks.max(1);
        let span = (self.max_pairs - self.min_pairs) / 2;
        let mut at: Vec<u32> = (0..looks)
            .map(|k| self.min_pairs + 2 * (span * k).div_ceil((looks - 1).max(1)))
            .collect();
        at.dedup();
        at
    }

    /// The settings as `gate.json` states them.
    pub fn info(&self) -> GateSettingsInfo {
        GateSettingsInfo {
            scenario: self.run.scenario.name.clone(),
            rate: self.rate,
            warmup_s: self.warmup.as_secs_f64(),
            block_s: self.block.as_secs_f64(),
            max_regression: self.stats.max_regression,
            max_share_change: self.stats.max_share_change,
            min_delta_ms: self.stats.min_delta_ms,
            alpha: self.stats.alpha,
            looks: self.stats.looks,
            min_pairs: self.min_pairs,
            max_pairs: self.max_pairs,
            max_duration_s: self.max_duration.as_secs_f64(),
            resamples: self.stats.resamples as u32,
            seed: self.stats.seed,
            inconclusive: self.inconclusive,
        }
    }
}

fn bad(flag: &'static str, why: impl Into<String>) -> PlanError {
    PlanError::Value {
        flag,
        why: why.into(),
    }
}

/// One side from its two flags: exactly one of them.
fn side(
    name: &'static str,
    git_ref: Option<String>,
    cmd: Option<String>,
) -> Result<SidePlan, PlanError> {
    let (ref_flag, cmd_flag) = match name {
        "base" => ("--base", "--base-cmd"),
        _ => ("--head", "--head-cmd"),
    };
    match (git_ref, cmd) {
        (Some(_), Some(_)) => Err(PlanError::Conflict(ref_flag, cmd_flag)),
        (None, None) => Err(bad(
            ref_flag,
            format!("give the {name} side: a git ref ({ref_flag} main) or a command ({cmd_flag} './sut')"),
        )),
        (Some(r), None) if r.trim().is_empty() || r.starts_with('-') => {
            Err(bad(ref_flag, format!("'{r}' is not a git ref")))
        }
        (Some(r), None) => Ok(SidePlan::GitRef(r)),
        (None, Some(c)) if c.trim().is_empty() => Err(bad(cmd_flag, "is empty")),
        (None, Some(c)) => Ok(SidePlan::Command(c)),
    }
}

impl GateOptions {
    /// Validates everything into a plan.
    pub fn into_plan(self) -> Result<GatePlan, PlanError> {
        let base = side("base", self.base_ref, self.base_cmd)?;
        let head = side("head", self.head_ref, self.head_cmd)?;
        if self.run.sut_url.is_some() {
            return Err(bad(
                "--sut-url",
                "a gate starts both sides itself, each block afresh: give --base-cmd and --head-cmd",
            ));
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(bad("--rate", "must be a positive rate, e.g. 20"));
        }
        if self.block < Duration::from_secs(1) {
            return Err(bad("--block", "must be at least 1s"));
        }
        // Pairs run as A B, B A: an even count sees each side first as often as second.
        if (self.min_pairs as usize) < MIN_PAIRS || self.min_pairs % 2 == 1 {
            return Err(bad(
                "--min-pairs",
                format!(
                    "must be even and at least {}: fewer pairs give no interval",
                    MIN_PAIRS + MIN_PAIRS % 2
                ),
            ));
        }
        if self.max_pairs < self.min_pairs || self.max_pairs % 2 == 1 {
            return Err(bad("--max-pairs", "must be even and at least --min-pairs"));
        }
        if !(self.max_regression > 0.0 && self.max_regression < 1.0) {
            return Err(bad("--max-regression", "must be between 0% and 100%"));
        }
        if !(self.max_share_change > 0.0 && self.max_share_change < 1.0) {
            return Err(bad("--max-share-change", "must be between 0% and 100%"));
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(bad("--alpha", "must be between 0 and 0.5, e.g. 0.05"));
        }
        let build = self.run.sut_build;
        let mut run = RunOptions {
            quiet: true,
            // A placeholder until each block sets its side's command.
            sut_cmd: Some("true".into()),
            ..self.run
        }
        .into_plan()?;
        run.shape = shape(self.rate, self.warmup, self.block);
        run.target = TargetPlan::Command(String::new());
        let mut plan = GatePlan {
            base,
            head,
            run,
            stats: GateSettings {
                max_regression: self.max_regression,
                max_share_change: self.max_share_change,
                min_delta_ms: self.min_delta.as_secs_f64() * 1000.0,
                alpha: self.alpha,
                ..GateSettings::default()
            },
            min_pairs: self.min_pairs,
            max_pairs: self.max_pairs,
            max_duration: self.max_duration,
            inconclusive: self.inconclusive,
            rate: self.rate,
            warmup: self.warmup,
            block: self.block,
            build,
        };
        // Alpha is split over the looks this gate will take, no more.
        plan.stats.looks = plan.look_at().len() as u32;
        Ok(plan)
    }
}

/// Every block's load: open model, Poisson arrivals at `rate`, so that the offered load
/// is the same whichever side is faster.
fn shape(rate: f64, warmup: Duration, block: Duration) -> LoadShape {
    LoadShape::settle(&Profile {
        model: Model::Open,
        rate: Some(rate),
        arrival: Arrival::Poisson,
        duration: Some(warmup + block),
        warmup: Some(warmup),
        ..Profile::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> GateOptions {
        GateOptions {
            base_cmd: Some("./a".into()),
            head_cmd: Some("./b".into()),
            ..GateOptions::default()
        }
    }

    fn err(o: GateOptions) -> String {
        match o.into_plan() {
            Ok(_) => "planned".into(),
            Err(e) => crate::session::error_chain(&e),
        }
    }

    #[test]
    fn bad_values_name_their_flag() {
        let cases: Vec<(GateOptions, &str)> = vec![
            (
                GateOptions {
                    base_cmd: None,
                    ..options()
                },
                "--base: give the base side",
            ),
            (
                GateOptions {
                    head_ref: Some("main".into()),
                    ..options()
                },
                "--head and --head-cmd",
            ),
            (
                GateOptions {
                    rate: 0.0,
                    ..options()
                },
                "--rate",
            ),
            (
                GateOptions {
                    min_pairs: 2,
                    ..options()
                },
                "--min-pairs",
            ),
            (
                GateOptions {
                    min_pairs: 5,
                    ..options()
                },
                "--min-pairs: must be even",
            ),
            (
                GateOptions {
                    max_pairs: 3,
                    ..options()
                },
                "--max-pairs",
            ),
            (
                GateOptions {
                    max_pairs: 11,
                    ..options()
                },
                "--max-pairs: must be even",
            ),
            (
                GateOptions {
                    max_regression: 0.0,
                    ..options()
                },
                "--max-regression",
            ),
            (
                GateOptions {
                    alpha: 0.7,
                    ..options()
                },
                "--alpha",
            ),
            (
                GateOptions {
                    run: RunOptions {
                        scenario: "no-such-scenario".into(),
                        ..RunOptions::default()
                    },
                    ..options()
                },
                "--scenario no-such-scenario",
            ),
        ];
        for (o, flag) in cases {
            let e = err(o);
            assert!(e.contains(flag), "{flag}: {e}");
        }
    }

    #[test]
    fn looks_start_at_min_pairs_and_end_at_max_pairs() {
        let plan = options().into_plan().expect("plans");
        assert_eq!(plan.look_at(), vec![4, 6, 8, 10]);
        assert_eq!(plan.stats.looks, 4);
        let plan = GateOptions {
            min_pairs: 4,
            max_pairs: 4,
            ..options()
        }
        .into_plan()
        .expect("plans");
        assert_eq!(plan.look_at(), vec![4]);
        assert_eq!(plan.stats.looks, 1, "one look: alpha is not split");
        let plan = GateOptions {
            max_pairs: 16,
            ..options()
        }
        .into_plan()
        .expect("plans");
        assert_eq!(plan.look_at(), vec![4, 8, 12, 16]);
        assert!(plan.run.shape.open.is_some(), "open model");
    }
}
