//! `harness compare` for people: the delta per budget on the terminal, and as Markdown
//! for a pull request's step summary.

use std::fmt::Write;

use crate::report::columns::{columns, Align};
use crate::report::export::value;
use crate::results::{Comparison, Delta, DeltaVerdict, Unit};

fn word(d: &Delta, c: &Comparison) -> &'static str {
    match d.verdict {
        DeltaVerdict::Regressed => "REGRESSED",
        DeltaVerdict::Improved => "improved",
        // Past the percentage but under --min-delta: say why it does not count, or a
        // reader sees +20% beside a verdict that looks wrong.
        DeltaVerdict::Unchanged
            if d.unit == Unit::Ms && d.change.is_some_and(|ch| ch > c.max_regression) =>
        {
            "noise"
        }
        DeltaVerdict::Unchanged => "within",
        DeltaVerdict::New => "new",
        DeltaVerdict::Gone => "gone",
    }
}

fn cells(d: &Delta, c: &Comparison) -> [String; 5] {
    let show = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| value(d.unit, v));
    [
        d.name.clone(),
        show(d.base),
        show(d.new),
        d.change
            .map_or_else(|| "-".into(), |c| format!("{:+.1}%", c * 100.0)),
        word(d, c).into(),
    ]
}

/// Rows worth showing: everything that changed, and every latency budget.
fn shown(c: &Comparison) -> impl Iterator<Item = &Delta> {
    c.rows.iter().filter(|d| {
        d.verdict != DeltaVerdict::Unchanged || (d.unit == Unit::Ms && d.base.is_some())
    })
}

fn headline(c: &Comparison) -> String {
    if c.regressions.is_empty() {
        format!(
            "no regression beyond {:.0}% (latency changes under {} ignored)",
            c.max_regression * 100.0,
            value(Unit::Ms, c.min_delta_ms)
        )
    } else {
        format!(
            "REGRESSION beyond {:.0}%: {}",
            c.max_regression * 100.0,
            c.regressions.join(", ")
        )
    }
}

/// The comparison as a text table.
pub fn render(c: &Comparison) -> String {
    use Align::{Left, Right};
    let header = ["budget", "base", "new", "change", ""].map(String::from);
    let rows: Vec<[String; 5]> = shown(c).map(|d| cells(d, c)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "base {} ({})", c.base.run_id, c.base.file);
    let _ = writeln!(out, "new  {} ({})", c.new.run_id, c.new.file);
    let table: Vec<Vec<String>> = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|r| r.to_vec()))
        .collect();
    out.push_str(&columns(&table, &[Left, Right, Right, Right, Left]));
    let hidden = c.rows.len() - rows.len();
    if hidden > 0 {
        let _ = writeln!(out, "  ({hidden} more unchanged)");
    }
    for w in &c.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(out, "{}", headline(c));
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The comparison as Markdown.
pub fn markdown(c: &Comparison) -> String {
    let mut m = String::new();
    let mark = if c.regressions.is_empty() {
        "✅"
    } else {
        "❌"
    };
    let _ = writeln!(m, "## harness compare: {mark} {}\n", headline(c));
    let _ = writeln!(m, "Base `{}`, new `{}`.\n", c.base.run_id, c.new.run_id);
    for w in &c.warnings {
        let _ = writeln!(m, "> **Warning:** {w}\n");
    }
    let _ = writeln!(m, "| budget | base | new | change | |");
    let _ = writeln!(m, "|---|---:|---:|---:|---|");
    for d in shown(c) {
        let [name, base, new, change, verdict] = cells(d, c);
        let verdict = if d.verdict == DeltaVerdict::Regressed {
            format!("**{verdict}**")
        } else {
            verdict
        };
        let _ = writeln!(m, "| `{name}` | {base} | {new} | {change} | {verdict} |");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::export::tests::fixture;
    use crate::scoring::compare::{compare, Thresholds};

    fn regressed() -> Comparison {
        compare(
            ("smoke.json", &fixture("smoke")),
            ("smoke-p95-plus-20.json", &fixture("smoke-p95-plus-20")),
            Thresholds::default(),
        )
    }

    #[test]
    fn terminal_snapshot() {
        insta::assert_snapshot!(render(&regressed()));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&regressed()));
    }

    /// A plain run against a chaos run: warned about, compared all the same.
    #[test]
    fn unlike_runs_snapshot() {
        let c = compare(
            ("smoke.json", &fixture("smoke")),
            ("chaos.json", &fixture("chaos")),
            Thresholds::default(),
        );
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        insta::assert_snapshot!("unlike_terminal", render(&c));
        insta::assert_snapshot!("unlike_markdown", markdown(&c));
    }
}
