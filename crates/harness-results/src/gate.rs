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

/// The version of `gate.json`'s shape; a change that breaks readers bumps it.
pub const GATE_SCHEMA_VERSION: u32 = 1;

/// What `harness gate` does with an INCONCLUSIVE gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InconclusivePolicy {
    /// Fail the gate (exit 1): not shown to be free of regression.
    #[default]
    Fail,
    /// Pass it (exit 0), for a runner too noisy to decide.
    Pass,
}

/// Which of the two implementations a block ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateSide {
    /// The implementation the change is judged against.
    Base,
    /// The change.
    Head,
}

impl GateSide {
    /// The word reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            GateSide::Base => "base",
            GateSide::Head => "head",
        }
    }
}

/// How one side was obtained and started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateSubject {
    /// The command each block started (`--base-cmd`, or the binary built from the ref).
    pub command: String,
    /// `--base` or `--head`: the git ref it was built from, when it was.
    pub git_ref: Option<String>,
    /// The commit the ref named.
    pub commit: Option<String>,
}

/// Why a block was left out of the comparison: the load generator or the machine,
/// not the SUT, bounded its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockExclusion {
    /// More than 1% of the sends started 10 ms or more after their intended time.
    GeneratorLate,
    /// Sends were dropped at the in-flight cap.
    GeneratorDropped,
    /// The machine's cores were 97% busy or more over the block.
    MachineSaturated,
    /// Processes the gate did not start took 3 points more of the machine in one block
    /// of the pair than in the other: something else ran beside one side only.
    MachineInterference,
}

impl BlockExclusion {
    /// Why, in words.
    pub fn describe(self) -> &'static str {
        match self {
            BlockExclusion::GeneratorLate => {
                "the load generator sent more than 1% of its requests 10 ms or more late"
            }
            BlockExclusion::GeneratorDropped => {
                "the load generator dropped sends at its in-flight cap"
            }
            BlockExclusion::MachineSaturated => "the machine's cores were 97% busy or more",
            BlockExclusion::MachineInterference => {
                "other processes took 3 points more of the machine in one block of the pair"
            }
        }
    }
}

/// One block: one side, started fresh, loaded at the gate's rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateBlock {
    /// Its place in the run order, from 0.
    pub index: u32,
    /// The pair it belongs to (blocks 2k and 2k+1).
    pub pair: u32,
    /// Which side ran.
    pub side: GateSide,
    /// Requests scored.
    pub requests: u64,
    /// The SUT's CPU seconds (user + system, its process group) over the scored load,
    /// a request, in ms; `None` where `/proc` could not be read.
    pub cpu_ms_per_request: Option<f64>,
    /// The share of the machine's CPU that was busy over the load, 0 to 1.
    pub machine_busy: Option<f64>,
    /// The share of it that processes the gate did not start (neither the harness nor
    /// its descendants: the SUT and, with the native backend, the environment) used.
    #[serde(default)]
    pub others_busy: Option<f64>,
    /// Sends that started 10 ms or more late.
    pub late: u64,
    /// The latest start, ms after its intended time.
    pub max_late_ms: f64,
    /// Sends dropped at the in-flight cap.
    pub dropped: u64,
    /// Why it was left out, if it was (with its pair).
    pub excluded: Option<BlockExclusion>,
    /// Its results file.
    pub results: String,
}

/// One metric's verdict with everything behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateMetric {
    /// The metric (a budget's name, `OPERATION.pNN`, `e2e.pNN`, `error_rate`,
    /// `fallback_share`, `cpu_ms_per_request`).
    pub metric: String,
    /// Ratio or share.
    pub scale: MetricScale,
    /// Pairs of blocks judged.
    pub pairs: u32,
    /// Median of base's blocks (ms, or a share).
    pub base: Option<f64>,
    /// Median of head's blocks.
    pub head: Option<f64>,
    /// The change: head/base − 1 for a ratio, head − base for a share.
    pub change: Option<f64>,
    /// The 95% bootstrap interval of the change, low end.
    pub low: Option<f64>,
    /// Its high end.
    pub high: Option<f64>,
    /// The half-width an A/A interval of these blocks would have.
    pub noise_floor: Option<f64>,
    /// The threshold, in the change's units.
    pub threshold: f64,
    /// One-sided p-value that it is worse than the threshold, before Holm.
    pub p_regressed: Option<f64>,
    /// One-sided p-value that it is better by more than the threshold, before Holm.
    pub p_improved: Option<f64>,
    /// The verdict.
    pub call: GateCall,
    /// What decided it.
    pub reason: GateReason,
    /// Base's value in each of its blocks, in run order (null where missing).
    pub base_values: Vec<Option<f64>>,
    /// Head's.
    pub head_values: Vec<Option<f64>>,
}

/// Why the gate stopped adding blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateStop {
    /// Every metric was decided.
    Decided,
    /// Every metric left undecided would stay so at `--max-pairs`: its noise floor,
    /// shrinking as one over the square root of the pairs, would still be above its
    /// threshold.
    Undecidable,
    /// `--max-pairs` were run.
    MaxPairs,
    /// Another pair would have passed `--max-duration`.
    MaxDuration,
}

/// The gate's settings, as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateSettingsInfo {
    /// The scenario.
    pub scenario: String,
    /// Open-model arrivals a second.
    pub rate: f64,
    /// Each block's unscored start, s.
    pub warmup_s: f64,
    /// Each block's scored length, s.
    pub block_s: f64,
    /// A ratio metric regresses only when shown worse by more than this.
    pub max_regression: f64,
    /// A latency change smaller than this many ms is no change.
    #[serde(default)]
    pub min_delta_ms: f64,
    /// A share metric, by more than this many points (0.01 is one point).
    pub max_share_change: f64,
    /// The chance a gate with no change says REGRESSED anywhere.
    pub alpha: f64,
    /// Looks alpha is split over.
    pub looks: u32,
    /// Pairs before the first look.
    pub min_pairs: u32,
    /// The most pairs.
    pub max_pairs: u32,
    /// The longest the gate may run, s.
    pub max_duration_s: f64,
    /// Bootstrap resamples an interval.
    pub resamples: u32,
    /// The bootstrap's seed.
    pub seed: u64,
    /// What an INCONCLUSIVE gate exits with.
    pub inconclusive: InconclusivePolicy,
}

/// `gate.json`: a whole gate, its blocks, every metric's verdict, and the gate's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateReport {
    /// [`GATE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The harness that ran it.
    pub harness_version: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took, s.
    pub duration_s: f64,
    /// How each figure was obtained, in words.
    pub method: String,
    /// The machine both sides ran on.
    pub machine: crate::MachineInfo,
    /// The implementation judged against.
    pub base: GateSubject,
    /// The change.
    pub head: GateSubject,
    /// The settings.
    pub settings: GateSettingsInfo,
    /// Every block, in run order.
    pub blocks: Vec<GateBlock>,
    /// The looks taken: pairs judged at each, and the gate's call then.
    pub looks: Vec<(u32, GateCall)>,
    /// Why it stopped.
    pub stopped: GateStop,
    /// Every latency and share metric, judged as one family (Holm).
    pub metrics: Vec<GateMetric>,
    /// The SUT's CPU time a request, judged on its own.
    pub cost: GateMetric,
    /// The gate's verdict: REGRESSED if any metric or the cost is, else INCONCLUSIVE if
    /// any is, else IMPROVED if any is, else UNCHANGED.
    pub call: GateCall,
}

impl GateReport {
    /// What the gate comes to for its exit code: a regression fails; INCONCLUSIVE
    /// fails unless `--inconclusive pass`.
    pub fn outcome(&self) -> crate::exit::Outcome {
        use crate::exit::Outcome;
        match (self.call, self.settings.inconclusive) {
            (GateCall::Regressed, _) | (GateCall::Inconclusive, InconclusivePolicy::Fail) => {
                Outcome::Failed
            }
            _ => Outcome::Passed,
        }
    }
}
