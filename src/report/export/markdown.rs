//! Markdown for `$GITHUB_STEP_SUMMARY`: the verdict first, then the phases of a chaos
//! run, then every budget and expectation.

use std::fmt::Write;

use super::{value, Exporter};
use crate::results::{Results, Status, Unit};

/// The Markdown exporter.
pub struct Markdown;

impl Exporter<Results> for Markdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }

    fn render(&self, r: &Results) -> Vec<u8> {
        let mut m = String::new();
        let verdict = if r.verdict.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(
            m,
            "## harness: {verdict} — {} / {}\n",
            r.scenario.name, r.scenario.profile
        );
        if !r.verdict.passed {
            let _ = writeln!(
                m,
                "Not met: {}\n",
                r.verdict
                    .failed
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(
            m,
            "{} users, {:.0} s, {} transactions, {:.1}/s, errors {:.2}%, p95 {}\n",
            r.scenario.users,
            r.duration_s,
            r.totals.requests,
            r.totals.throughput_rps,
            r.totals.error_rate * 100.0,
            value(Unit::Ms, r.overall.p95_us as f64 / 1000.0)
        );
        if let Some(l) = crate::report::table::load_summary(r) {
            let _ = writeln!(m, "Load: {l}.\n");
        }
        for l in crate::report::table::stream_summary(r) {
            let _ = writeln!(m, "{l}\n");
        }
        if !r.phases.is_empty() {
            let _ = writeln!(
                m,
                "| phase | seconds | transactions | p95 | errors | fallback | LLM calls |"
            );
            let _ = writeln!(m, "|---|---|---:|---:|---:|---:|---:|");
            for p in &r.phases {
                let _ = writeln!(
                    m,
                    "| {} | {:.0}–{:.0} | {} | {} | {:.1}% | {:.1}% | {} |",
                    p.name,
                    p.start_s,
                    p.end_s,
                    p.requests,
                    value(Unit::Ms, p.latency.p95_us as f64 / 1000.0),
                    p.error_rate * 100.0,
                    p.fallback_rate * 100.0,
                    p.llm_calls
                );
            }
            if let Some(c) = &r.chaos {
                let ttr = c
                    .time_to_recover_s
                    .map_or_else(|| "not recovered".into(), |t| format!("{t:.0} s"));
                let _ = writeln!(
                    m,
                    "\nFaults: {}. Time to recover: {ttr}.\n",
                    c.faults.join(", ")
                );
            }
        }
        let _ = writeln!(m, "| | budget | measured | limit | seed |");
        let _ = writeln!(m, "|---|---|---:|---:|---|");
        for b in &r.budgets {
            let mark = match b.status {
                Status::Pass => "pass",
                Status::Fail => "**FAIL**",
                Status::NotApplicable => "n/a",
            };
            let _ = writeln!(
                m,
                "| {mark} | `{}` | {} | {} | {} |",
                b.name,
                b.measured.map_or_else(|| "–".into(), |v| value(b.unit, v)),
                value(b.unit, b.limit),
                b.seed.replace('|', "\\|")
            );
        }
        let _ = writeln!(m, "\nReproduce: `{}`", r.command.join(" "));
        m.into_bytes()
    }
}
