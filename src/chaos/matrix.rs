//! `harness chaos --matrix`: each fault alone, in turn, each in its own environment and
//! SUT so that one fault's after-effects cannot leak into the next; then one summary.

use std::path::Path;

use crate::exit;
use crate::results::{MatrixRow, MatrixSummary, SCHEMA_VERSION};
use crate::run::RunOutcome;

impl MatrixRow {
    /// The row for a run that completed.
    pub fn from_outcome(fault: &str, o: &RunOutcome) -> Self {
        let r = &o.results;
        let phase = r.phases.iter().find(|p| p.name == "fault");
        MatrixRow {
            fault: fault.to_owned(),
            outcome: if r.verdict.passed { "pass" } else { "fail" }.into(),
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
    pub fn error(fault: &str, why: &str) -> Self {
        MatrixRow {
            fault: fault.to_owned(),
            outcome: "error".into(),
            time_to_recover_s: None,
            fault_p95_ms: None,
            fault_error_rate: None,
            fault_fallback_rate: None,
            failed: Vec::new(),
            results: None,
            error: Some(why.to_owned()),
        }
    }
}

/// Summarises `rows`.
pub fn summarise(rows: Vec<MatrixRow>) -> MatrixSummary {
    let exit_code = if rows.iter().any(|r| r.outcome == "error") {
        exit::HARNESS_ERROR
    } else if rows.iter().any(|r| r.outcome == "fail") {
        exit::BUDGET_FAILED
    } else {
        exit::SUCCESS
    };
    MatrixSummary {
        schema_version: SCHEMA_VERSION,
        passed: exit_code == exit::SUCCESS,
        rows,
        exit_code,
    }
}

/// Summarises `rows` and writes `reports/matrix-<time>.json`.
pub fn write(reports: &Path, rows: Vec<MatrixRow>) -> std::io::Result<MatrixSummary> {
    let summary = summarise(rows);
    let stamp = crate::run::run_id("chaos", "matrix");
    let path = reports.join(format!("{stamp}.json"));
    let json = serde_json::to_vec_pretty(&summary).map_err(std::io::Error::other)?;
    std::fs::write(&path, json)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_outranks_a_failure() {
        let fail = MatrixRow {
            outcome: "fail".into(),
            ..MatrixRow::error("db-down", "x")
        };
        assert_eq!(summarise(vec![fail.clone()]).exit_code, exit::BUDGET_FAILED);
        let s = summarise(vec![fail, MatrixRow::error("slicer", "boom")]);
        assert_eq!((s.exit_code, s.passed), (exit::HARNESS_ERROR, false));
        assert_eq!(summarise(Vec::new()).exit_code, exit::SUCCESS);
    }
}
