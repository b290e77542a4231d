//! The stable, machine-readable results of a run: `reports/<run-id>/results.json`.
//! Only serde lives here. The schema is versioned; histograms are stored whole (HDR V2 +
//! DEFLATE, base64), so reports can be re-rendered and runs merged later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::record::HistogramSummary;

/// Bumped on any change that an older reader would misread.
pub const SCHEMA_VERSION: u32 = 1;

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// Logical CPUs.
    pub cores: usize,
    /// Physical memory, bytes.
    pub memory_bytes: u64,
    /// `uname -sr`-like.
    pub os: String,
    /// The harness checkout's commit, if known.
    pub git_sha: Option<String>,
}

/// Counts over the scored window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A phase of a chaos run, with its figures. Transactions belong to the phase they
/// started in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// `baseline`, `fault` or `recovery`.
    pub name: String,
    /// Start, seconds from the start of load.
    pub start_s: f64,
    /// End, seconds from the start of load.
    pub end_s: f64,
    /// What was in place, e.g. `llm-fail 1 (500)`.
    pub faults: Vec<String>,
    /// Transactions.
    pub requests: u64,
    /// Errors among them.
    pub errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// Transactions per second.
    pub throughput_rps: f64,
    /// End to end, as measured.
    pub latency: HistogramSummary,
    /// Status mix.
    pub statuses: BTreeMap<String, u64>,
    /// `fallback` values.
    pub fallbacks: BTreeMap<String, u64>,
    /// Answers with a fallback other than `none` / transactions.
    pub fallback_rate: f64,
    /// Answers with `degraded: true` / transactions.
    pub degraded_rate: f64,
    /// 2xx template answers with quality below 0.7 / transactions.
    pub template_share: f64,
    /// 2xx answers with `cache` among their sources / transactions.
    pub cache_share: f64,
    /// Calls that reached the LLM fake during the phase.
    pub llm_calls: u64,
    /// `/health` samples by overall word (`no_answer` when none came in time).
    pub health: BTreeMap<String, u64>,
}

/// What a chaos run adds to the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaosInfo {
    /// The faults, as applied.
    pub faults: Vec<String>,
    /// When each fault was applied and removed.
    pub events: Vec<Event>,
    /// Seconds from the removal of the faults until the service was back in the
    /// baseline band; `None` when it did not come back within the recovery phase.
    pub time_to_recover_s: Option<f64>,
    /// How "back in the band" was decided.
    pub recovery_rule: String,
    /// One point per second: LLM calls and `/health`.
    pub seconds: Vec<ChaosSecond>,
    /// Every `/health` sample.
    pub health: Vec<HealthSample>,
}

/// One second of a chaos run, beside [`SecondPoint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaosSecond {
    /// Seconds from the start of load.
    pub t: u64,
    /// Calls that reached the LLM fake in this second.
    pub llm_calls: u64,
    /// The overall `/health` word last seen in this second.
    pub health: Option<String>,
    /// The breaker state last seen in this second.
    pub breaker: Option<String>,
}

/// PASS, FAIL, or not applicable to this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Every budget met.
    pub passed: bool,
    /// Names of failed budgets and expectations.
    pub failed: Vec<String>,
    /// The process exit code (see `exit`).
    pub exit_code: u8,
}

/// A fault applied or removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds from the start of load.
    pub t_s: f64,
    /// `apply` or `remove`.
    pub action: String,
    /// The fault, e.g. `db-latency 10s`.
    pub fault: String,
    /// Why it could not be done, if it could not.
    pub error: Option<String>,
}

/// One `/health` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSample {
    /// Seconds from the start of load.
    pub t_s: f64,
    /// The HTTP status; `None` when no answer came in time.
    pub http: Option<u16>,
    /// `status`: `healthy`, `degraded` or `unhealthy`.
    pub status: Option<String>,
    /// Each component's `status` (`up`/`down`).
    pub components: BTreeMap<String, String>,
    /// `components.llm.circuit_breaker`, when the SUT reports it.
    pub breaker: Option<String>,
}

impl HealthSample {
    /// The word this sample shows for `component` (`status` is the overall word).
    pub fn state_of(&self, component: &str) -> Option<&str> {
        if component == "status" {
            self.status.as_deref()
        } else {
            self.components.get(component).map(String::as_str)
        }
    }

    /// Whether the SUT says the LLM's breaker is open: the breaker field when it has
    /// one, else the LLM component being down.
    pub fn breaker_open(&self) -> bool {
        match &self.breaker {
            Some(b) => b != "closed",
            None => self.state_of("llm") == Some("down"),
        }
    }
}

/// `harness chaos --matrix`: one line per fault, run alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixSummary {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// One row per fault, in the order run.
    pub rows: Vec<MatrixRow>,
    /// Every run completed and passed.
    pub passed: bool,
    /// The process exit code: 2 if a run could not complete, else 1 if one failed.
    pub exit_code: u8,
}

/// One fault of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    /// The fault kind, e.g. `db-down`.
    pub fault: String,
    /// `pass`, `fail` or `error`.
    pub outcome: String,
    /// Seconds until back in the baseline band.
    pub time_to_recover_s: Option<f64>,
    /// Fault phase: end-to-end p95, ms.
    pub fault_p95_ms: Option<f64>,
    /// Fault phase: error rate.
    pub fault_error_rate: Option<f64>,
    /// Fault phase: share of fallback answers.
    pub fault_fallback_rate: Option<f64>,
    /// Failed budgets and expectations.
    pub failed: Vec<String>,
    /// The run's results.json.
    pub results: Option<String>,
    /// Why the run could not complete.
    pub error: Option<String>,
}
