//! The chaos matrix summary for the terminal: one row per fault.

use std::fmt::Write;

use crate::results::MatrixSummary;

/// The summary as text.
pub fn render(s: &MatrixSummary) -> String {
    let header = ["fault", "outcome", "recover", "p95", "errors", "fallback", "failed"];
    let rows: Vec<[String; 7]> = s
        .rows
        .iter()
        .map(|r| {
            let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or_else(|| "-".into(), f);
            [
                r.fault.clone(),
                r.outcome.to_uppercase(),
                opt(r.time_to_recover_s, &|t| format!("{t:.0} s")),
                opt(r.fault_p95_ms, &|v| format!("{v:.0} ms")),
                opt(r.fault_error_rate, &|v| format!("{:.1}%", v * 100.0)),
                opt(r.fault_fallback_rate, &|v| format!("{:.1}%", v * 100.0)),
                match &r.error {
                    Some(e) => e.clone(),
                    None => r.failed.join(", "),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {:>w5$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
        );
    };
    line(&mut out, &header.map(String::from));
    for row in &rows {
        line(&mut out, row);
    }
    let failing = s.rows.iter().filter(|r| r.outcome != "pass").count();
    let _ = writeln!(
        out,
        "{}: {} of {} faults passed",
        if s.passed { "PASS" } else { "FAIL" },
        s.rows.len() - failing,
        s.rows.len()
    );
    out
}
