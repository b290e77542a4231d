//! `harness capacity`: the load a service sustains within its budgets, step by step, as
//! stored in `capacity.json`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::LoadModel;

/// A capacity search or sweep, and what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Capacity {
    /// [`super::SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Identifies the search; each probe's results are in `<id>/probe-NN-rR/`.
    pub capacity_id: String,
    /// The command line.
    pub command: Vec<String>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// The scenario whose mix was sent.
    pub scenario: String,
    /// Open (a rate a second) or closed (users).
    pub model: LoadModel,
    /// `rate` (requests a second) or `users`: what `load` means in every step.
    pub load_unit: String,
    /// How probes were chosen: `rates`, `users`, or `search` (bracket, then bisect).
    pub method: String,
    /// The fault held for the whole search, as its spec (`redis-latency 200ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Probes per load.
    pub repeats: u32,
    /// Each probe's scored length, seconds (after its warm-up).
    pub step_s: f64,
    /// The per-request limit goodput counts against, ms: a request is good when it did
    /// not fail and took no longer than this end to end.
    pub goodput_limit_ms: f64,
    /// `--objective goodput>=SHARE`: what a probe had to meet instead of the budgets,
    /// e.g. `goodput >= 95.0% (--slo ttft=500ms)`; absent when the budgets decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    /// Every probe, in the order run.
    pub steps: Vec<CapacityStep>,
    /// The highest load at which every repeat met every budget; `None` when even the
    /// lowest probe missed one.
    pub capacity: Option<f64>,
    /// Where p95 starts to grow faster than the load: the last load before the first
    /// step whose p95 ratio to the step below exceeds its load ratio; `None` if never.
    pub knee: Option<f64>,
    /// How each figure was obtained, for a reader.
    pub method_note: String,
}

/// One probe at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityStep {
    /// Requests a second offered (open) or users (closed).
    pub load: f64,
    /// 1-based repeat at this load.
    pub repeat: u32,
    /// Transactions finished per second over the scored window.
    pub throughput_rps: f64,
    /// Non-failed transactions within the goodput limit, per second.
    pub goodput_rps: f64,
    /// End to end, ms.
    pub p50_ms: f64,
    /// End to end, ms.
    pub p95_ms: f64,
    /// End to end, ms.
    pub p99_ms: f64,
    /// p95 per Server-Timing operation, ms.
    pub operations_p95_ms: BTreeMap<String, f64>,
    /// Errors / transactions.
    pub error_rate: f64,
    /// Open model: sends that started 10 ms or more late.
    pub late: u64,
    /// Open model: sends dropped at the in-flight cap.
    pub dropped: u64,
    /// Whether every applicable budget held.
    pub passed: bool,
    /// `--slo`: the share of the probe's transactions that met every objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_goodput: Option<f64>,
    /// The budgets that did not.
    pub failed: Vec<String>,
    /// The probe's own results, relative to the capacity directory.
    pub results: String,
}

impl Capacity {
    /// The spread across repeats at each load: (load, (max − min) / median of
    /// throughput, (max − min) / median of p95). Loads probed once are left out.
    pub fn spread(&self) -> Vec<(f64, f64, f64)> {
        let mut loads: Vec<f64> = self.steps.iter().map(|s| s.load).collect();
        loads.sort_by(f64::total_cmp);
        loads.dedup();
        loads
            .into_iter()
            .filter_map(|load| {
                let at: Vec<&CapacityStep> = self.steps.iter().filter(|s| s.load == load).collect();
                (at.len() > 1).then(|| {
                    let rel = |f: &dyn Fn(&CapacityStep) -> f64| {
                        let mut v: Vec<f64> = at.iter().map(|s| f(s)).collect();
                        v.sort_by(f64::total_cmp);
                        let median = v[v.len() / 2];
                        if median == 0.0 {
                            0.0
                        } else {
                            (v[v.len() - 1] - v[0]) / median
                        }
                    };
                    (load, rel(&|s| s.throughput_rps), rel(&|s| s.p95_ms))
                })
            })
            .collect()
    }
}
