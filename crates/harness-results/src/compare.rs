//! `harness compare BASE.json NEW.json`: the delta per budget, as stored and printed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Status, Unit};

/// Two runs compared, budget by budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// [`super::SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The run compared against (usually the base branch).
    pub base: RunRef,
    /// The run under review.
    pub new: RunRef,
    /// The largest allowed growth of a latency budget's measured value, as a fraction
    /// (0.10 = 10%); for ratio budgets, the largest growth as a fraction of the limit.
    pub max_regression: f64,
    /// Latency growth smaller than this many milliseconds is noise, never a regression.
    pub min_delta_ms: f64,
    /// One row per budget or expectation in either run, in the new run's order.
    pub rows: Vec<Delta>,
    /// Names of the regressed rows.
    pub regressions: Vec<String>,
    /// Ways the two runs differ that make their numbers less comparable (another
    /// scenario, profile, user count, LLM profile, backend or machine size). They do not
    /// change the exit code; a reader should know.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// 0, or 1 when something regressed (see [`super::exit`]).
    pub exit_code: u8,
}

impl Comparison {
    /// Failed when something regressed, for the exit code.
    pub fn outcome(&self) -> super::Outcome {
        if self.regressions.is_empty() {
            super::Outcome::Passed
        } else {
            super::Outcome::Failed
        }
    }
}

/// Which run a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRef {
    /// The results file.
    pub file: String,
    /// Its run id.
    pub run_id: String,
    /// The harness checkout's commit, if it was known.
    pub git_sha: Option<String>,
}

/// One budget in both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delta {
    /// Budget or expectation name.
    pub name: String,
    /// The unit of `limit`, `base` and `new`.
    pub unit: Unit,
    /// The limit in the new run (the base's when the budget is gone).
    pub limit: f64,
    /// Measured in the base run.
    pub base: Option<f64>,
    /// Measured in the new run.
    pub new: Option<f64>,
    /// (new − base) / base; `None` when either side is missing or the base is 0.
    pub change: Option<f64>,
    /// The base run's outcome.
    pub base_status: Option<Status>,
    /// The new run's outcome.
    pub new_status: Option<Status>,
    /// What the change amounts to.
    pub verdict: DeltaVerdict,
}

/// What a change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeltaVerdict {
    /// Worse beyond the threshold, or passed before and fails now.
    Regressed,
    /// Better beyond the threshold.
    Improved,
    /// Within the threshold.
    Unchanged,
    /// Only in the new run, or measured only there.
    New,
    /// Only in the base run, or measured only there.
    Gone,
}
