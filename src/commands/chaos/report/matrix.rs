//! The chaos matrix summary for the terminal: one row per fault.

use std::fmt::Write;

use crate::report::columns::{columns, Align};
use crate::results::{MatrixOutcome, MatrixSummary};

/// The summary as text.
pub fn render(s: &MatrixSummary) -> String {
    let header = [
        "fault", "outcome", "recover", "p95", "errors", "fallback", "detect", "clear", "failed",
    ];
    let rows: Vec<[String; 9]> = s
        .rows
        .iter()
        .map(|r| {
            let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or_else(|| "-".into(), f);
            [
                r.fault.clone(),
                r.outcome.shout().to_owned(),
                opt(r.time_to_recover_s, &|t| format!("{t:.0} s")),
                opt(r.fault_p95_ms, &|v| format!("{v:.0} ms")),
                opt(r.fault_error_rate, &|v| format!("{:.1}%", v * 100.0)),
                opt(r.fault_fallback_rate, &|v| format!("{:.1}%", v * 100.0)),
                opt(r.detect_s, &|t| format!("{t:.1} s")),
                opt(r.clear_s, &|t| format!("{t:.1} s")),
                match &r.error {
                    Some(e) => e.clone(),
                    None => r.failed.join(", "),
                },
            ]
        })
        .collect();
    use Align::{Left, Right};
    let table: Vec<Vec<String>> = std::iter::once(header.map(String::from).to_vec())
        .chain(rows.into_iter().map(|r| r.to_vec()))
        .collect();
    let align = [Left, Left, Right, Right, Right, Right, Right, Right, Left];
    let mut out = columns(&table, &align);
    let failing = s
        .rows
        .iter()
        .filter(|r| r.outcome != MatrixOutcome::Pass)
        .count();
    let _ = writeln!(
        out,
        "{}: {} of {} faults passed",
        if s.passed { "PASS" } else { "FAIL" },
        s.rows.len() - failing,
        s.rows.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MatrixRow;

    #[test]
    fn matrix_snapshot() {
        let row =
            |fault: &str, outcome: MatrixOutcome, ttr: Option<f64>, failed: &[&str]| MatrixRow {
                fault: fault.into(),
                outcome,
                time_to_recover_s: ttr,
                fault_p95_ms: ttr.map(|t| 100.0 + t * 10.0),
                fault_error_rate: Some(0.0),
                fault_fallback_rate: Some(if fault.starts_with("llm") { 1.0 } else { 0.0 }),
                detect_s: ttr.map(|t| 2.5 + t),
                clear_s: ttr.map(|t| 3.0 + t / 2.0),
                failed: failed.iter().map(|s| s.to_string()).collect(),
                results: Some(format!("reports/x-{fault}/results.json")),
                error: None,
            };
        let mut rows = vec![
            row("llm-fail", MatrixOutcome::Pass, Some(4.0), &[]),
            row("db-down", MatrixOutcome::Pass, Some(0.0), &[]),
            row(
                "redis-latency",
                MatrixOutcome::Fail,
                None,
                &[
                    "chaos.recovery.health_healthy",
                    "chaos.redis.time_to_recover",
                ],
            ),
        ];
        rows.push(MatrixRow {
            results: None,
            time_to_recover_s: None,
            fault_p95_ms: None,
            fault_error_rate: None,
            fault_fallback_rate: None,
            detect_s: None,
            clear_s: None,
            error: Some("fault layer: could not apply slicer on db".into()),
            ..row("slicer", MatrixOutcome::Error, None, &[])
        });
        let s = MatrixSummary {
            schema_version: crate::results::SCHEMA_VERSION,
            rows,
            passed: false,
            exit_code: crate::exit::HARNESS_ERROR,
        };
        insta::assert_snapshot!(render(&s));
    }
}
