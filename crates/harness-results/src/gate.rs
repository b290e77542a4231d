//! `harness gate`'s verdicts, as its JSON states them: for each metric, what the
//! statistics called it and why. How the calls are made is the engine's
//! `scoring::gate`, and the README's *Gate*.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the gate called a metric, or itself.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GateCall {
    /// Shown worse than the threshold.
    Regressed,
    /// Shown better than the threshold.
    Improved,
    /// Its interval lies within the threshold either way.
    Unchanged,
    /// Not decided: the interval crosses the threshold, the noise floor is above it, or
    /// there were too few blocks.
    Inconclusive,
}

impl GateCall {
    /// The word reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            GateCall::Regressed => "REGRESSED",
            GateCall::Improved => "IMPROVED",
            GateCall::Unchanged => "UNCHANGED",
            GateCall::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// What decided a metric's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateReason {
    /// The paired test, Holm-adjusted over the gate's metrics.
    Test,
    /// Where the 95% interval lies against the threshold.
    Interval,
    /// The spread between blocks of one side is above the threshold.
    NoiseFloor,
    /// Fewer pairs of blocks than the gate judges on.
    TooFewBlocks,
    /// A ratio metric with a value of 0 (an operation a block never called).
    NotPositive,
    /// A block did not measure it.
    Missing,
}

/// How a metric's change is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricScale {
    /// As a ratio, head/base (latencies, CPU seconds a request).
    Ratio,
    /// As a difference in points (error rate, fallback share), since either can be 0.
    Share,
}
