//! `harness capacity`'s files: `capacity.json` (schema in `fixtures/schema/`),
//! `capacity.md` and `capacity.html` (the curve and a table per step). One exporter per
//! format, each an [`Exporter`] of [`Capacity`] (the one trait, in [`crate::report::exporter`]).

mod html;

use std::fmt::Write;

use crate::report::export::value;
use crate::results::{Capacity, Unit};

pub use crate::report::exporter::Exporter;

/// `capacity.json`.
pub struct Json;
/// `capacity.md`.
pub struct Markdown;
pub use html::Html;

/// Every capacity format: the registry ([`crate::report::exporter::Document`]) of [`Capacity`].
///
/// ```
/// use harness::commands::capacity::report::EXPORTERS;
/// assert_eq!(EXPORTERS[0].file_name(), "capacity.json");
/// ```
pub static EXPORTERS: [&dyn Exporter<Capacity>; 3] = [&Json, &Markdown, &Html];

impl crate::report::exporter::Document for Capacity {
    fn exporters() -> &'static [&'static dyn Exporter<Self>] {
        &EXPORTERS
    }
}

impl Exporter<Capacity> for Json {
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
    let at_what = c.objective.as_deref().unwrap_or("budget");
    format!(
        "capacity at {at_what}{under}: {}; knee: {}",
        at(c.capacity),
        at(c.knee)
    )
}

impl Exporter<Capacity> for Markdown {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{CapacityStep, LoadModel};

    fn step(load: f64, p95: f64, passed: bool) -> CapacityStep {
        CapacityStep {
            load,
            repeat: 1,
            throughput_rps: load * 0.98,
            goodput_rps: load * 0.97,
            p50_ms: p95 / 2.0,
            p95_ms: p95,
            p99_ms: p95 * 1.5,
            operations_p95_ms: [("entity_resolver.resolve".to_owned(), p95 / 10.0)].into(),
            error_rate: 0.0,
            late: 0,
            dropped: 0,
            passed,
            slo_goodput: None,
            failed: if passed {
                Vec::new()
            } else {
                vec!["entity_resolver.resolve.p50".into()]
            },
            results: format!("probe-{load}/results.json"),
        }
    }

    fn capacity() -> Capacity {
        Capacity {
            schema_version: 1,
            capacity_id: "20261126T095245Z-realistic-mix-capacity".into(),
            command: vec!["harness".into(), "capacity".into()],
            started_at: "2026-11-26T09:52:45Z".into(),
            scenario: "realistic-mix".into(),
            model: LoadModel::Open,
            load_unit: "rate".into(),
            method: "search".into(),
            fault: None,
            repeats: 1,
            step_s: 30.0,
            goodput_limit_ms: 10_000.0,
            objective: None,
            steps: vec![
                step(40.0, 150.0, true),
                step(80.0, 170.0, true),
                step(160.0, 1070.0, false),
            ],
            capacity: Some(80.0),
            knee: Some(80.0),
            method_note: "How.".into(),
        }
    }

    #[test]
    fn a_goodput_objective_names_itself_in_the_headline() {
        let mut c = capacity();
        assert!(headline(&c).starts_with("capacity at budget: 80 requests/s"));
        c.objective = Some("goodput >= 95.0% (--slo ttft=500ms)".into());
        assert!(
            headline(&c).starts_with("capacity at goodput >= 95.0% (--slo ttft=500ms): 80"),
            "{}",
            headline(&c)
        );
    }

    #[test]
    fn markdown_snapshot() {
        let md = String::from_utf8(Markdown.render(&capacity())).expect("utf-8");
        insta::assert_snapshot!(md);
    }

    #[test]
    fn the_curve_marks_the_capacity_and_each_missed_probe() {
        let html = String::from_utf8(Html.render(&capacity())).expect("utf-8");
        assert!(html.contains("capacity 80 requests/s"), "capacity marker");
        // Passed probes filled, missed ones hollow with an outline, never invisible.
        assert_eq!(html.matches("<circle").count(), 3);
        assert_eq!(html.matches("fill=\"#fff\" stroke=\"#c0392b\"").count(), 1);
        assert!(html.contains("missed: entity_resolver.resolve.p50"));
        let json: Capacity = serde_json::from_slice(&Json.render(&capacity())).expect("JSON");
        assert_eq!(json, capacity());
    }
}
