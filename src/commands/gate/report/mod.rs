//! `harness gate`'s outputs: the terminal table, and the files `gate.json` (schema in
//! `fixtures/schema/gate.schema.json`), `gate.md` (for a pull request) and `gate.html`
//! (each metric's blocks for both sides, and its interval, drawn). One exporter per
//! format, each an [`Exporter`] of [`GateReport`].

mod html;

use std::fmt::Write;

use crate::report::columns::{columns, Align};
use crate::results::{GateCall, GateMetric, GateReason, GateReport, MetricScale};

pub use crate::report::exporter::Exporter;
pub use html::Html;

/// `gate.json`.
pub struct Json;
/// `gate.md`.
pub struct Markdown;

/// Every gate format: the registry ([`crate::report::exporter::Document`]) of
/// [`GateReport`].
///
/// ```
/// use harness::commands::gate::report::EXPORTERS;
/// assert_eq!(EXPORTERS[0].file_name(), "gate.json");
/// ```
pub static EXPORTERS: [&dyn Exporter<GateReport>; 3] = [&Json, &Markdown, &Html];

impl crate::report::exporter::Document for GateReport {
    fn exporters() -> &'static [&'static dyn Exporter<Self>] {
        &EXPORTERS
    }
}

impl Exporter<GateReport> for Json {
    fn file_name(&self) -> &'static str {
        "gate.json"
    }
    fn render(&self, g: &GateReport) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(g).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// A metric's value: ms for a ratio metric, a percentage for a share.
fn value(scale: MetricScale, v: Option<f64>) -> String {
    match (scale, v) {
        (_, None) => "-".into(),
        (MetricScale::Ratio, Some(v)) if v >= 100.0 => format!("{v:.0} ms"),
        (MetricScale::Ratio, Some(v)) if v >= 10.0 => format!("{v:.1} ms"),
        (MetricScale::Ratio, Some(v)) => format!("{v:.2} ms"),
        (MetricScale::Share, Some(v)) => format!("{:.2}%", v * 100.0),
    }
}

/// A change: a percentage of base for a ratio metric, points for a share.
fn change(scale: MetricScale, v: Option<f64>) -> String {
    match (scale, v) {
        (_, None) => "-".into(),
        (MetricScale::Ratio, Some(v)) => format!("{:+.1}%", v * 100.0),
        (MetricScale::Share, Some(v)) => format!("{:+.2} pt", v * 100.0),
    }
}

fn interval(m: &GateMetric) -> String {
    match (m.low, m.high) {
        (Some(_), Some(_)) => format!("[{}, {}]", change(m.scale, m.low), change(m.scale, m.high)),
        _ => "-".into(),
    }
}

fn floor(m: &GateMetric) -> String {
    m.noise_floor.map_or_else(
        || "-".into(),
        |f| change(m.scale, Some(f)).trim_start_matches('+').to_owned(),
    )
}

/// Why a metric was called what it was, in words.
fn why(m: &GateMetric) -> &'static str {
    match m.reason {
        GateReason::Test => "paired t-test (Holm)",
        GateReason::Interval if m.call == GateCall::Unchanged => "interval within threshold",
        GateReason::Interval => "interval crosses threshold",
        GateReason::NoiseFloor => "noise floor above threshold",
        GateReason::TooFewBlocks => "too few pairs",
        GateReason::NotPositive => "a block measured 0",
        GateReason::Missing => "a block lacks it",
    }
}

fn cells(m: &GateMetric) -> [String; 7] {
    [
        m.metric.clone(),
        value(m.scale, m.base),
        value(m.scale, m.head),
        change(m.scale, m.change),
        interval(m),
        floor(m),
        format!("{} ({})", m.call.as_str(), why(m)),
    ]
}

/// Every metric, the cost last.
fn rows(g: &GateReport) -> impl Iterator<Item = &GateMetric> {
    g.metrics.iter().chain(std::iter::once(&g.cost))
}

/// The verdict in one line, with how it was reached.
pub fn headline(g: &GateReport) -> String {
    let pairs = g.looks.last().map_or(0, |(p, _)| *p);
    let left_out = g.blocks.iter().filter(|b| b.excluded.is_some()).count();
    let named = |c: GateCall| -> Vec<&str> {
        rows(g)
            .filter(|m| m.call == c)
            .map(|m| m.metric.as_str())
            .collect()
    };
    let detail = match g.call {
        GateCall::Regressed => format!("regressed: {}", named(GateCall::Regressed).join(", ")),
        GateCall::Inconclusive => {
            format!("not decided: {}", named(GateCall::Inconclusive).join(", "))
        }
        GateCall::Improved => format!(
            "no regression; improved: {}",
            named(GateCall::Improved).join(", ")
        ),
        GateCall::Unchanged => "no metric changed by more than its threshold".into(),
    };
    format!(
        "{} after {pairs} pairs of blocks ({} blocks, {left_out} left out) in {:.0} s; {detail}",
        g.call.as_str(),
        g.blocks.len(),
        g.duration_s,
    )
}

/// How the figures were judged, in one line.
pub fn judged_by(g: &GateReport) -> String {
    let s = &g.settings;
    format!(
        "thresholds {:.0}% (latency, CPU; a latency at least {} ms) and {:.0} pt (shares); Holm over {} metrics at alpha {} \
         split over {} looks; 95% bootstrap intervals over pairs of blocks; {} at {} requests/s \
         (open model), blocks of {:.0} s after {:.0} s warm-up",
        s.max_regression * 100.0,
        s.min_delta_ms,
        s.max_share_change * 100.0,
        g.metrics.len(),
        s.alpha,
        s.looks,
        s.scenario,
        s.rate,
        s.block_s,
        s.warmup_s,
    )
}

/// The gate as a text table.
pub fn render(g: &GateReport) -> String {
    use Align::{Left, Right};
    let header = [
        "metric",
        "base",
        "head",
        "change",
        "95% interval",
        "noise",
        "verdict",
    ];
    let table: Vec<Vec<String>> = std::iter::once(header.map(String::from).to_vec())
        .chain(rows(g).map(|m| cells(m).to_vec()))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "base {}", side(&g.base));
    let _ = writeln!(out, "head {}", side(&g.head));
    out.push_str(&columns(
        &table,
        &[Left, Right, Right, Right, Right, Right, Left],
    ));
    for (pair, why) in left_out(g) {
        let _ = writeln!(out, "left out: pair {pair}: {why}");
    }
    let _ = writeln!(out, "{}", judged_by(g));
    let _ = writeln!(out, "gate: {}", headline(g));
    out
}

/// The pairs left out, each with why (its first block's reason).
fn left_out(g: &GateReport) -> Vec<(u32, &'static str)> {
    let mut out: Vec<(u32, &'static str)> = Vec::new();
    for b in &g.blocks {
        if let Some(e) = b.excluded {
            if !out.iter().any(|(p, _)| *p == b.pair) {
                out.push((b.pair, e.describe()));
            }
        }
    }
    out
}

fn side(s: &crate::results::GateSubject) -> String {
    match (&s.git_ref, &s.commit) {
        (Some(r), Some(c)) => format!("{r} ({})", &c[..c.len().min(12)]),
        _ => s.command.clone(),
    }
}

impl Exporter<GateReport> for Markdown {
    fn file_name(&self) -> &'static str {
        "gate.md"
    }
    fn render(&self, g: &GateReport) -> Vec<u8> {
        let mut m = String::new();
        let mark = match g.call {
            GateCall::Regressed => "❌",
            GateCall::Inconclusive => "⚠️",
            GateCall::Improved | GateCall::Unchanged => "✅",
        };
        let _ = writeln!(m, "## harness gate: {mark} {}\n", headline(g));
        let _ = writeln!(
            m,
            "Base `{}`, head `{}`: {}.\n",
            side(&g.base),
            side(&g.head),
            judged_by(g)
        );
        let _ = writeln!(
            m,
            "| metric | base | head | change | 95% interval | noise floor | verdict |"
        );
        let _ = writeln!(m, "|---|---:|---:|---:|---:|---:|---|");
        for x in rows(g) {
            let [name, base, head, ch, iv, fl, verdict] = cells(x);
            let verdict = if x.call == GateCall::Regressed {
                format!("**{verdict}**")
            } else {
                verdict
            };
            let _ = writeln!(
                m,
                "| `{name}` | {base} | {head} | {ch} | {iv} | {fl} | {verdict} |"
            );
        }
        let _ = writeln!(
            m,
            "\n<details><summary>How the figures were obtained</summary>\n"
        );
        let _ = writeln!(m, "{}\n\n</details>", g.method);
        m.into_bytes()
    }
}

#[cfg(test)]
pub(crate) mod tests;
