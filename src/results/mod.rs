//! The stable, machine-readable results of a run: `reports/<run-id>/results.json`.
//! Only serde lives here. The schema is versioned; histograms are stored whole (HDR V2 +
//! DEFLATE, base64), so reports can be re-rendered and runs merged later.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod chaos;
mod compare;

pub use crate::record::HistogramSummary;
pub use chaos::{ChaosInfo, ChaosSecond, Event, HealthSample, MatrixRow, MatrixSummary, Phase};
pub use compare::{Comparison, Delta, DeltaVerdict, RunRef};

/// Bumped on any change that an older reader would misread.
pub const SCHEMA_VERSION: u32 = 1;

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
    /// Load phase length, seconds.
    pub duration_s: f64,
    /// Unscored seconds at the start.
    pub warmup_s: f64,
    /// Counts over the scored window.
    pub totals: Totals,
    /// End to end, all transactions (corrected when correction is on).
    pub overall: HistogramSummary,
    /// End to end, all transactions, as measured.
    pub overall_raw: HistogramSummary,
    /// End to end per transaction.
    pub transactions: BTreeMap<String, HistogramSummary>,
    /// Per `Server-Timing` operation.
    pub operations: BTreeMap<String, HistogramSummary>,
    /// One point per second of the load phase (warm-up included).
    pub timeline: Vec<SecondPoint>,
    /// Fault phases (chaos runs); empty for `harness run`.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// The fault timeline, health and LLM series, and time to recover (chaos runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosInfo>,
    /// Every budget, scored.
    pub budgets: Vec<BudgetOutcome>,
    /// The outcome.
    pub verdict: Verdict,
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
    /// Start of the ramp, seconds from the start of load.
    pub start_s: f64,
    /// Ramp, seconds.
    pub ramp_s: f64,
    /// Hold, seconds.
    pub hold_s: f64,
}

/// The system under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetInfo {
    /// `reference`, `command` or `url`.
    pub kind: String,
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
    /// `ms` or `ratio`.
    pub unit: String,
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
    /// The process exit code (see `exit`).
    pub exit_code: u8,
}
