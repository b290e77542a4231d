//! `harness capacity`'s files: `capacity.json` (schema in `fixtures/schema/`),
//! `capacity.md` and `capacity.html` (the curve and a table per step). One exporter per
//! format, each turning a [`Capacity`] into bytes.

mod html;

use std::fmt::Write;
use std::path::Path;

use super::export::value;
use super::files::ReportError;
use crate::results::{Capacity, Unit};

/// One capacity output format.
///
/// ```
/// use harness::report::capacity::{CapacityExporter, EXPORTERS};
/// assert_eq!(EXPORTERS[0].file_name(), "capacity.json");
/// ```
pub trait CapacityExporter: Sync {
    /// The file it writes in the capacity directory.
    fn file_name(&self) -> &'static str;
    /// The rendered file.
    fn render(&self, c: &Capacity) -> Vec<u8>;
}

/// `capacity.json`.
pub struct Json;
/// `capacity.md`.
pub struct Markdown;
pub use html::Html;

/// Every capacity format.
pub const EXPORTERS: [&dyn CapacityExporter; 3] = [&Json, &Markdown, &Html];

impl CapacityExporter for Json {
    fn file_name(&self) -> &'static str {
        "capacity.json"
    }
    fn render(&self, c: &Capacity) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(c).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// The one-line answer: the capacity and the knee, with their unit.
pub fn headline(c: &Capacity) -> String {
    let unit = if c.load_unit == "users" {
        "users"
    } else {
        "requests/s"
    };
    let at = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| format!("{v} {unit}"));
    let under = c
        .fault
        .as_ref()
        .map(|f| format!(" under `{f}`"))
        .unwrap_or_default();
    format!(
        "capacity at budget{under}: {}; knee: {}",
        at(c.capacity),
        at(c.knee)
    )
}

impl CapacityExporter for Markdown {
    fn file_name(&self) -> &'static str {
        "capacity.md"
    }
    fn render(&self, c: &Capacity) -> Vec<u8> {
        let mut m = String::new();
        let _ = writeln!(m, "## harness capacity — {}\n", c.scenario);
        let _ = writeln!(m, "{}.\n", headline(c));
        let _ = writeln!(
            m,
            "| {} | repeat | throughput/s | goodput/s | p50 | p95 | p99 | errors | late | dropped | budgets |",
            c.load_unit
        );
        let _ = writeln!(m, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for s in &c.steps {
            let _ = writeln!(m, "| {} |", step_cells(s).join(" | "));
        }
        for (load, tput, p95) in c.spread() {
            let _ = writeln!(
                m,
                "\nSpread at {load}: throughput {:.1}%, p95 {:.1}% (max − min over the median).",
                tput * 100.0,
                p95 * 100.0
            );
        }
        let _ = writeln!(m, "\n{}", c.method_note);
        let _ = writeln!(m, "\nReproduce: `{}`", c.command.join(" "));
        m.into_bytes()
    }
}

/// One step's row, cell by cell, as both tables show it: load, repeat, throughput,
/// goodput, p50, p95, p99, errors, late, dropped, budgets.
pub fn step_cells(s: &crate::results::CapacityStep) -> [String; 11] {
    [
        s.load.to_string(),
        s.repeat.to_string(),
        format!("{:.1}", s.throughput_rps),
        format!("{:.1}", s.goodput_rps),
        value(Unit::Ms, s.p50_ms),
        value(Unit::Ms, s.p95_ms),
        value(Unit::Ms, s.p99_ms),
        format!("{:.2}%", s.error_rate * 100.0),
        s.late.to_string(),
        s.dropped.to_string(),
        if s.passed {
            "met".to_owned()
        } else {
            format!("missed: {}", s.failed.join(", "))
        },
    ]
}

/// Writes every format into `dir`.
pub fn write(c: &Capacity, dir: &Path) -> Result<(), ReportError> {
    for e in EXPORTERS {
        let path = dir.join(e.file_name());
        std::fs::write(&path, e.render(c)).map_err(|source| ReportError::Write { path, source })?;
    }
    Ok(())
}
