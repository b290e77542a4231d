//! What a chaos run adds to the results: phases, the fault timeline, `/health` samples,
//! and the matrix summary.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::HistogramSummary;

/// The phases of a chaos run, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    /// Before any fault; the reference level.
    Baseline,
    /// While the faults are in place.
    Fault,
    /// After the faults are removed.
    Recovery,
}

impl PhaseName {
    /// All three, in order.
    pub const ALL: [PhaseName; 3] = [PhaseName::Baseline, PhaseName::Fault, PhaseName::Recovery];

    /// The word results.json uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseName::Baseline => "baseline",
            PhaseName::Fault => "fault",
            PhaseName::Recovery => "recovery",
        }
    }
}

impl std::fmt::Display for PhaseName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Whether a fault went in or came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    /// Put in place.
    Apply,
    /// Taken away.
    Remove,
}

impl std::fmt::Display for EventAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            EventAction::Apply => "apply",
            EventAction::Remove => "remove",
        })
    }
}

/// How one run of the matrix ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatrixOutcome {
    /// Every budget and expectation met.
    Pass,
    /// Every budget and expectation of the service met, but not of its alerts.
    AlertsFail,
    /// A budget or expectation failed.
    Fail,
    /// The run could not complete.
    Error,
}

impl MatrixOutcome {
    /// `PASS`, `FAIL` or `ERROR`, for people.
    pub fn shout(self) -> &'static str {
        match self {
            MatrixOutcome::Pass => "PASS",
            MatrixOutcome::AlertsFail => "ALERTS",
            MatrixOutcome::Fail => "FAIL",
            MatrixOutcome::Error => "ERROR",
        }
    }

    /// What the outcome means for the exit code.
    pub fn outcome(self) -> super::Outcome {
        match self {
            MatrixOutcome::Pass => super::Outcome::Passed,
            MatrixOutcome::AlertsFail => super::Outcome::AlertsFailed,
            MatrixOutcome::Fail => super::Outcome::Failed,
            MatrixOutcome::Error => super::Outcome::Error,
        }
    }
}

/// A phase of a chaos run, with its figures. Transactions belong to the phase they
/// started in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phase {
    /// Which phase.
    pub name: PhaseName,
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
    /// The phase's streams (TTFT, ITL, how they ended), when any streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<super::StreamSummary>,
    /// `--slo`: the share of the phase's transactions that met every objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<f64>,
}

/// What a chaos run adds to the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Every reading of the LLM fake's call counter, so a merge of shards can score the
    /// run from exactly what its driver saw.
    #[serde(default)]
    pub llm_readings: Vec<LlmReading>,
    /// Streamed answers the LLM fake began, and of those, the ones whose caller (the
    /// SUT) left before their end: LLM calls cancelled, by a client that left the SUT
    /// or by the SUT's own deadline. Absent when nothing streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_streams: Option<StreamCalls>,
    /// The alert components' record and each alert judged; absent when the run did not
    /// start them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<super::AlertsInfo>,
}

/// The LLM fake's streamed answers over a chaos run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StreamCalls {
    /// Streamed answers begun.
    pub begun: u64,
    /// Of those, the ones whose caller left before their end.
    pub cancelled: u64,
}

/// One reading of the LLM fake's call counter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LlmReading {
    /// Seconds from the start of load.
    pub t_s: f64,
    /// Calls that had reached the LLM fake by then.
    pub calls: u64,
}

/// One second of a chaos run, beside [`SecondPoint`](super::SecondPoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

/// A fault applied or removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Seconds from the start of load.
    pub t_s: f64,
    /// In or out.
    pub action: EventAction,
    /// The fault, e.g. `db-latency 10s`.
    pub fault: String,
    /// Why it could not be done, if it could not.
    pub error: Option<String>,
}

/// One `/health` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixSummary {
    /// [`SCHEMA_VERSION`](super::SCHEMA_VERSION) when written.
    pub schema_version: u32,
    /// One row per fault, in the order run.
    pub rows: Vec<MatrixRow>,
    /// Every run completed and passed.
    pub passed: bool,
    /// The process exit code: 2 if a run could not complete, else 1 if one failed.
    pub exit_code: u8,
}

impl MatrixSummary {
    /// The worst of the rows' outcomes, for the exit code.
    pub fn outcome(&self) -> super::Outcome {
        super::Outcome::worst(self.rows.iter().map(|r| r.outcome.outcome()))
    }
}

/// One fault of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    /// The fault kind, e.g. `db-down`.
    pub fault: String,
    /// How the run ended.
    pub outcome: MatrixOutcome,
    /// Seconds until back in the baseline band.
    pub time_to_recover_s: Option<f64>,
    /// Fault phase: end-to-end p95, ms.
    pub fault_p95_ms: Option<f64>,
    /// Fault phase: error rate.
    pub fault_error_rate: Option<f64>,
    /// Fault phase: share of fallback answers.
    pub fault_fallback_rate: Option<f64>,
    /// The longest time to detect among the alerts the fault must raise, seconds;
    /// `None` when one was missed or the alerts were not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_s: Option<f64>,
    /// The longest time to clear among the alerts that fired, seconds; `None` when one
    /// did not clear or the alerts were not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_s: Option<f64>,
    /// Failed budgets and expectations.
    pub failed: Vec<String>,
    /// The run's results.json.
    pub results: Option<String>,
    /// Why the run could not complete.
    pub error: Option<String>,
}
