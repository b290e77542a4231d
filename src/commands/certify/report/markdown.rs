//! Markdown: the outcome and what withheld it, the clause table, then each clause that
//! did not pass with every case's checks of it and what they observed, then the cases
//! that did not pass with how to reproduce each.

use std::fmt::Write;

use super::Exporter;
use crate::results::certificate::{Certificate, Verdict};

/// The Markdown exporter.
pub struct Markdown;

/// A table cell: one line, no pipes.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Exporter<Certificate> for Markdown {
    fn file_name(&self) -> &'static str {
        "certificate.md"
    }

    fn render(&self, c: &Certificate) -> Vec<u8> {
        let mut m = String::new();
        let outcome = c.outcome.label();
        let _ = writeln!(m, "# Certification: {outcome}\n");
        let p = &c.subject.product;
        let _ = writeln!(
            m,
            "- Subject: `{}` ({}){}",
            c.subject.target,
            c.subject.mode.name(),
            if p.name.is_empty() {
                String::new()
            } else {
                format!(", {} {} {}", p.vendor, p.name, p.version)
            }
        );
        let _ = writeln!(
            m,
            "- Suite {} at level {}; {} of {} cases run; started {}",
            c.suite_version,
            c.level.name(),
            c.cases_run,
            c.expected_cases,
            c.started_at
        );
        let _ = writeln!(m, "- Catalogue SHA-256 `{}`", c.digests.catalogue_sha256);
        let _ = writeln!(m, "- Results SHA-256 `{}`", c.digests.results_sha256);
        if !c.reasons.is_empty() {
            m.push_str("\nWithheld because:\n");
            for r in &c.reasons {
                let _ = writeln!(m, "- {r}");
            }
        }
        m.push_str("\n| Clause | Level | Verdict | Cases |\n|---|---|---|---|\n");
        for cl in &c.clauses {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} |",
                cl.id,
                cl.level.name(),
                cl.verdict.label(),
                cell(&cl.cases.join(", "))
            );
        }
        let failing: Vec<_> = c
            .clauses
            .iter()
            .filter(|cl| !matches!(cl.verdict, Verdict::Pass | Verdict::Informational))
            .collect();
        if !failing.is_empty() {
            m.push_str("\n## Clauses that did not pass, with each case's checks of them\n");
            for cl in failing {
                let _ = writeln!(m, "\n### {} — {}\n", cl.id, cl.verdict.label());
                for (r, j) in super::judged(c, &cl.id, &cl.cases) {
                    let v = j.map_or(r.verdict, |j| j.verdict);
                    let _ = write!(m, "- `{}`: {}", r.id, v.label());
                    if let Some(why) = j.and_then(|j| j.reason.as_deref()).or(r.reason.as_deref()) {
                        let _ = write!(m, " ({})", cell(why));
                    }
                    m.push('\n');
                    for o in j.map(|j| j.observed.as_slice()).unwrap_or_default() {
                        let _ = writeln!(m, "  - {}", cell(o));
                    }
                }
            }
        }
        let open: Vec<_> = c
            .cases
            .iter()
            .filter(|r| r.verdict != Verdict::Pass)
            .collect();
        if !open.is_empty() {
            m.push_str("\n## Cases that did not pass\n");
            for r in open {
                let _ = writeln!(
                    m,
                    "\n### {} — {} ({})\n\n- Expected: {}",
                    r.id,
                    r.verdict.label(),
                    r.clauses.join(", "),
                    r.expectation
                );
                if let Some(why) = &r.reason {
                    let _ = writeln!(m, "- Reason: {why}");
                }
                if !r.observed.is_empty() {
                    let _ = writeln!(m, "- Observed: {}", cell(&r.observed));
                }
                let _ = writeln!(m, "- Reproduce: `{}`", r.reproduce);
            }
        }
        m.into_bytes()
    }
}
