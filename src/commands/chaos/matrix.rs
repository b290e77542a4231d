//! `harness chaos --matrix`: each fault alone, in turn, each in its own environment and
//! SUT so that one fault's after-effects cannot leak into the next; then one summary.

use std::path::Path;

use crate::commands::run::{execute, run_id, RunError, RunOutcome, RunPlan};
use crate::exit;
use crate::results::{
    AlertRole, AlertScore, MatrixOutcome, MatrixRow, MatrixSummary, PhaseName, SCHEMA_VERSION,
};
use crate::session::{error_chain, Observer};

/// The row for a run that completed.
pub fn row(fault: &str, o: &RunOutcome) -> MatrixRow {
    let r = &o.results;
    let phase = r.phases.iter().find(|p| p.name == PhaseName::Fault);
    let alerts = r.chaos.as_ref().and_then(|c| c.alerts.as_ref());
    // The slowest of each: the fault is detected when its last expected alert fires,
    // and cleared when its last alert resolves.
    let slowest = |pick: fn(&AlertScore) -> Option<f64>, among: fn(&AlertScore) -> bool| {
        let scores: Vec<&AlertScore> = alerts?.scores.iter().filter(|s| among(s)).collect();
        let times: Option<Vec<f64>> = scores.iter().map(|s| pick(s)).collect();
        times.and_then(|t| t.into_iter().reduce(f64::max))
    };
    MatrixRow {
        fault: fault.to_owned(),
        outcome: match r.verdict.outcome() {
            exit::Outcome::Passed => MatrixOutcome::Pass,
            exit::Outcome::AlertsFailed => MatrixOutcome::AlertsFail,
            _ => MatrixOutcome::Fail,
        },
        detect_s: slowest(|s| s.detect_s, |s| s.role == AlertRole::Expected),
        clear_s: slowest(|s| s.clear_s, |s| !s.spans.is_empty()),
        time_to_recover_s: r.chaos.as_ref().and_then(|c| c.time_to_recover_s),
        fault_p95_ms: phase.map(|p| p.latency.p95_us as f64 / 1000.0),
        fault_error_rate: phase.map(|p| p.error_rate),
        fault_fallback_rate: phase.map(|p| p.fallback_rate),
        failed: r.verdict.failed.clone(),
        results: Some(o.dir.join("results.json").display().to_string()),
        error: None,
    }
}

/// The row for a run that could not complete.
pub fn error_row(fault: &str, why: &str) -> MatrixRow {
    MatrixRow {
        fault: fault.to_owned(),
        outcome: MatrixOutcome::Error,
        time_to_recover_s: None,
        fault_p95_ms: None,
        fault_error_rate: None,
        fault_fallback_rate: None,
        detect_s: None,
        clear_s: None,
        failed: Vec::new(),
        results: None,
        error: Some(why.to_owned()),
    }
}

/// Summarises `rows`.
pub fn summarise(rows: Vec<MatrixRow>) -> MatrixSummary {
    let outcome = exit::Outcome::worst(rows.iter().map(|r| r.outcome.outcome()));
    MatrixSummary {
        schema_version: SCHEMA_VERSION,
        passed: outcome == exit::Outcome::Passed,
        rows,
        exit_code: exit::process_exit_code(outcome),
    }
}

/// Why the matrix stopped before its summary.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// Ctrl-C or SIGTERM during one of the runs.
    #[error(transparent)]
    Interrupted(RunError),
    /// The summary could not be written.
    #[error("{0}: cannot write the matrix summary")]
    Write(std::path::PathBuf, #[source] std::io::Error),
}

/// Runs each plan in turn (`announce` is told each label as its run starts), then
/// summarises and writes `reports/chaos-matrix-<time>.json`. A run that cannot complete
/// becomes an error row; a signal stops the matrix.
pub async fn run(
    plans: Vec<(String, RunPlan)>,
    reports: &Path,
    observer: &dyn Observer,
    announce: impl Fn(&str),
) -> Result<MatrixSummary, MatrixError> {
    let mut rows = Vec::new();
    for (label, plan) in plans {
        announce(&label);
        let row = match execute(plan, observer).await {
            Ok(o) => row(&label, &o),
            Err(e @ RunError::Interrupted(_)) => return Err(MatrixError::Interrupted(e)),
            Err(e) => error_row(&label, &error_chain(&e)),
        };
        rows.push(row);
    }
    let summary = summarise(rows);
    let path = reports.join(format!("{}.json", run_id("chaos", "matrix")));
    let json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    std::fs::write(&path, json).map_err(|e| MatrixError::Write(path.clone(), e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_outranks_a_failure() {
        let fail = MatrixRow {
            outcome: MatrixOutcome::Fail,
            ..error_row("db-down", "x")
        };
        assert_eq!(summarise(vec![fail.clone()]).exit_code, exit::BUDGET_FAILED);
        let s = summarise(vec![fail, error_row("slicer", "boom")]);
        assert_eq!((s.exit_code, s.passed), (exit::HARNESS_ERROR, false));
        assert_eq!(summarise(Vec::new()).exit_code, exit::SUCCESS);
    }
}
