//! The stable, machine-readable types of `harness`: `reports/<run-id>/results.json`,
//! `harness compare --json`, the `chaos --matrix` summary, the `harness up --json` line,
//! and the documented exit codes.
//!
//! Only serde, serde_json and schemars live here, so a tool that reads the harness's
//! output can depend on this crate without the engine (Goose, testcontainers, sqlx). The
//! schema is versioned; histograms are stored whole (HDR V2 + DEFLATE, base64) so reports
//! can be re-rendered and runs merged later; decoding them is the engine's business.
//!
//! ```
//! let results: harness_results::Results = serde_json::from_str(include_str!(
//!     "../../../fixtures/results/smoke.json"
//! ))
//! .expect("a results file");
//! assert_eq!(results.exit_code(), harness_results::exit::SUCCESS);
//! ```
#![warn(missing_docs)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod alerts;
mod capacity;
pub mod certificate;
mod chaos;
mod compare;
pub mod exit;
mod gate;
mod stream;

pub use alerts::{
    AlertNotice, AlertRole, AlertScore, AlertSpan, AlertStatus, AlertsInfo, ALERTS_METHOD,
};
pub use capacity::{Capacity, CapacityStep};
pub use chaos::{
    ChaosInfo, ChaosSecond, Event, EventAction, HealthSample, LlmReading, MatrixOutcome, MatrixRow,
    MatrixSummary, Phase, PhaseName, StreamCalls,
};
pub use compare::{Comparison, Delta, DeltaVerdict, RunRef};
pub use exit::{DirectUrls, Outcome, ReadyInfo};
pub use gate::{
    BlockExclusion, GateBlock, GateCall, GateMetric, GateReason, GateReport, GateSettingsInfo,
    GateSide, GateStop, GateSubject, InconclusivePolicy, MetricScale, GATE_SCHEMA_VERSION,
};
pub use stream::{
    Goodput, StreamEnd, StreamPoint, StreamResults, StreamSummary, GOODPUT_METHOD, STREAM_METHOD,
};

/// Bumped on any change that an older reader would misread.
pub const SCHEMA_VERSION: u32 = 1;

/// Percentiles of one latency histogram, with the histogram itself, as stored in
/// results.json. All values are microseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistogramSummary {
    /// Samples.
    pub count: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Median, µs.
    pub p50_us: u64,
    /// 95th percentile, µs.
    pub p95_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Largest sample, µs.
    pub max_us: u64,
    /// The full histogram: HDR V2 + DEFLATE, base64 (empty for no samples).
    pub hdr: String,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The harness version that wrote it.
    pub harness_version: String,
    /// `YYYYmmdd-HHMMSS-<scenario>-<profile>`.
    pub run_id: String,
    /// The command line that reproduces the run.
    pub command: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The scenario and profile.
    pub scenario: ScenarioInfo,
    /// What was measured.
    pub target: TargetInfo,
    /// Where it ran.
    pub machine: MachineInfo,
    /// How coordinated omission was handled.
    pub coordinated_omission: String,
    /// How the load was generated, and what it could not send on time (absent from
    /// results written before the open model existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadInfo>,
    /// Load phase length, seconds.
    pub duration_s: f64,
    /// Unscored seconds at the start.
    pub warmup_s: f64,
    /// Counts over the scored window.
    pub totals: Totals,
    /// End to end, all transactions: the view every latency budget scores. Closed model:
    /// the measured samples plus the sends a stall held back (`load.backfilled`). Open
    /// model: measured from each request's intended send time, nothing added.
    pub overall: HistogramSummary,
    /// End to end, all transactions, as measured, nothing added.
    pub overall_raw: HistogramSummary,
    /// End to end per transaction, corrected as `overall` is.
    pub transactions: BTreeMap<String, HistogramSummary>,
    /// Per `Server-Timing` operation.
    pub operations: BTreeMap<String, HistogramSummary>,
    /// Streamed transactions (`stream = true`): TTFT, ITL, TPOT, end to end, and how
    /// each stream ended. Absent when nothing streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<StreamResults>,
    /// `--slo`: the share of requests that met every objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
    /// One point per second of the load phase (warm-up included).
    pub timeline: Vec<SecondPoint>,
    /// Fault phases (chaos runs); empty for `harness run`.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// The fault timeline, health and LLM series, and time to recover (chaos runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosInfo>,
    /// `--shard I/N`: this file is one shard's record, with no budget scored and no
    /// verdict of its own; `harness merge` scores the whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// `harness merge`: the shards these results were merged from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeInfo>,
    /// Every budget, scored.
    pub budgets: Vec<BudgetOutcome>,
    /// The outcome.
    pub verdict: Verdict,
}

/// Which part of a sharded load a results file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    /// The shard, from 0.
    pub index: u32,
    /// How many shards made the load.
    pub count: u32,
    /// When every shard was to start its schedule (`--start-at`, RFC 3339), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// `harness chaos --shard`: the faults and phases every shard ran to, so the merge
    /// scores the whole against the same fault timeline. Shard 0 drove the faults; its
    /// `chaos` holds what it saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ShardChaos>,
}

/// The fault timeline of a sharded chaos run, as each shard was told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardChaos {
    /// The faults, in the syntax the fault parser reads back (`llm-fail 1 (500)` is written
    /// `llm-fail 1 500`).
    pub faults: Vec<String>,
    /// Baseline length, ms.
    pub baseline_ms: u64,
    /// Fault phase length, ms.
    pub fault_ms: u64,
    /// Recovery length, ms.
    pub recovery_ms: u64,
}

/// What a merged results file was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergeInfo {
    /// How many shards.
    pub shards: u32,
    /// Each shard's results file, in shard order, with its request count.
    pub files: Vec<MergedShard>,
    /// How the figures were obtained.
    pub method: String,
}

/// One shard of a merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergedShard {
    /// The shard, from 0.
    pub index: u32,
    /// Its results file, as given to `harness merge`.
    pub file: String,
    /// Its scored requests.
    pub requests: u64,
}

/// The scenario as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Profile name.
    pub profile: String,
    /// Peak users.
    pub users: u32,
    /// Stages: users, ramp and hold in seconds.
    pub stages: Vec<StageInfo>,
    /// Think time bounds, ms.
    pub think_time_ms: (u64, u64),
    /// LLM fake latency profile.
    pub llm_profile: String,
    /// Transaction names and weights.
    pub mix: Vec<(String, u32)>,
}

/// One load stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageInfo {
    /// Users at the end of the ramp.
    pub users: u32,
    /// Requests a second at the end of the ramp, for an open-model stage (then
    /// `users` is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Start of the ramp, seconds from the start of load.
    pub start_s: f64,
    /// Ramp, seconds.
    pub ramp_s: f64,
    /// Hold, seconds.
    pub hold_s: f64,
}

/// How the harness got hold of the system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// The reference SUT, built from the harness's workspace.
    Reference,
    /// `--sut-cmd`: a command started with the contract's environment.
    Command,
    /// `--sut-url`: already running.
    Url,
}

impl TargetKind {
    /// The word results.json uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Reference => "reference",
            TargetKind::Command => "command",
            TargetKind::Url => "url",
        }
    }
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The unit a budget or expectation is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
    /// A fraction from 0 to 1.
    Ratio,
    /// A count.
    Count,
}

impl Unit {
    /// The word results.json uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::S => "s",
            Unit::Ratio => "ratio",
            Unit::Count => "count",
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The system under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetInfo {
    /// How the harness reached it.
    pub kind: TargetKind,
    /// Base URL.
    pub url: String,
    /// The command that started it, if the harness started it.
    pub command: Option<String>,
    /// `native` or `docker`; `None` with `--sut-url`.
    pub backend: Option<String>,
    /// Whether faults could be injected.
    pub faults_available: bool,
}

/// The machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MachineInfo {
    /// Logical CPUs.
    pub cores: usize,
    /// Physical memory, bytes.
    pub memory_bytes: u64,
    /// `uname -sr`-like.
    pub os: String,
    /// The harness checkout's commit, if known.
    pub git_sha: Option<String>,
    /// Versions of what took part: `harness`, `rustc` (built the reference SUT),
    /// `postgres` and `redis` (asked at run time). Absent entries were not known.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
}

/// Closed or open load model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    /// Users that wait for each answer and think between requests.
    #[default]
    Closed,
    /// Requests sent on an arrival schedule whatever the answers.
    Open,
}

/// How the load was generated, and every request it could not make as planned. Counts
/// are over the scored window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadInfo {
    /// Closed or open.
    pub model: LoadModel,
    /// Closed model: samples the coordinated-omission correction added to `overall` and
    /// `transactions` (sends a stall held back); 0 for the open model.
    pub backfilled: u64,
    /// Closed model: each user's usual cadence the correction assumed (median response
    /// time plus mean think time), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence_ms: Option<f64>,
    /// Open model: requests that started 10 ms or more after their intended send time
    /// (their latency still counts from the intended time).
    pub late: u64,
    /// Open model: the latest start, ms after the intended send time.
    pub max_late_ms: f64,
    /// Open model: sends not made because `max_in_flight` requests were outstanding.
    /// Counted as errors (status `dropped`), with no latency.
    pub dropped: u64,
    /// Requests still unanswered at the load phase's deadline, cut there and counted as
    /// errors (status `timeout`), with their latency up to the cut.
    pub cut: u64,
    /// Requests their clients abandoned mid-flight (`--abandon-after`): counted under
    /// the status `abandoned`, and in no latency, error rate or request count.
    #[serde(default)]
    pub abandoned: u64,
    /// How clients abandoned requests, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_rule: Option<String>,
}

/// Counts over the scored window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Transactions.
    pub requests: u64,
    /// Errors (non-2xx/3xx, transport).
    pub errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// Transactions per second over the scored window.
    pub throughput_rps: f64,
    /// Status mix.
    pub statuses: BTreeMap<String, u64>,
    /// `fallback` values seen.
    pub fallbacks: BTreeMap<String, u64>,
}

/// One second of the load phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SecondPoint {
    /// Seconds from the start of load.
    pub t: u64,
    /// Transactions started.
    pub requests: u64,
    /// Errors among them.
    pub errors: u64,
    /// Answers with a fallback other than `none`.
    pub fallbacks: u64,
    /// Answers with `degraded: true`.
    pub degraded: u64,
    /// 2xx template answers (chaos scoring's template share), so a merge can score it.
    #[serde(default)]
    pub templated: u64,
    /// 2xx answers with `cache` among their sources.
    #[serde(default)]
    pub cache_sourced: u64,
    /// `fallback` values of this second's answers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fallback_kinds: BTreeMap<String, u64>,
    /// Median, µs.
    pub p50_us: u64,
    /// 95th percentile, µs.
    pub p95_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Status mix.
    pub statuses: BTreeMap<String, u64>,
    /// The second's histogram, HDR V2 + DEFLATE, base64.
    pub hdr: String,
    /// Streams that started in this second, when any did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamPoint>,
    /// `--slo`: requests of this second that met every objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_met: Option<u64>,
}

/// PASS, FAIL, or not applicable to this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Within the limit.
    Pass,
    /// Over the limit.
    Fail,
    /// Nothing in this run measures it (e.g. an operation never seen).
    NotApplicable,
}

/// One budget, scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetOutcome {
    /// Budget name.
    pub name: String,
    /// Its source in the seeds.
    pub seed: String,
    /// The unit of `measured` and `limit`.
    pub unit: Unit,
    /// Measured value, in `unit`; `None` when not applicable.
    pub measured: Option<f64>,
    /// The limit, in `unit`.
    pub limit: f64,
    /// (limit − measured) / limit; negative when over.
    pub margin: Option<f64>,
    /// The outcome.
    pub status: Status,
    /// Context: which stage, how many samples, or why N/A.
    pub detail: String,
}

/// The run's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// Every budget met.
    pub passed: bool,
    /// Names of failed budgets and expectations.
    pub failed: Vec<String>,
    /// The process exit code (see [`exit`]).
    pub exit_code: u8,
}

impl Verdict {
    /// Passed, failed, or failed on alerts alone, for the exit code.
    pub fn outcome(&self) -> Outcome {
        if self.passed {
            Outcome::Passed
        } else if self.exit_code == exit::ALERTS_FAILED {
            Outcome::AlertsFailed
        } else {
            Outcome::Failed
        }
    }
}

impl Results {
    /// The exit code the run's verdict maps to.
    pub fn exit_code(&self) -> u8 {
        self.verdict.exit_code
    }
}

/// The JSON Schema of `results.json` (draft 2020-12).
///
/// ```
/// assert_eq!(harness_results::schema()["title"], "Results");
/// ```
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Results)).unwrap_or_default()
}

/// The JSON Schema of `harness compare --json` output.
///
/// ```
/// assert_eq!(harness_results::compare_schema()["title"], "Comparison");
/// ```
pub fn compare_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Comparison)).unwrap_or_default()
}

/// The JSON Schema of `capacity.json`.
///
/// ```
/// assert_eq!(harness_results::capacity_schema()["title"], "Capacity");
/// ```
pub fn capacity_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Capacity)).unwrap_or_default()
}

/// The JSON Schema of `gate.json`.
///
/// ```
/// assert_eq!(harness_results::gate_schema()["title"], "GateReport");
/// ```
pub fn gate_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(GateReport)).unwrap_or_default()
}

/// The JSON Schema of `certificate.json`.
///
/// ```
/// assert_eq!(harness_results::certificate_schema()["title"], "Certificate");
/// ```
pub fn certificate_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(certificate::Certificate)).unwrap_or_default()
}
