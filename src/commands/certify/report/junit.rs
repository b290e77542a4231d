//! JUnit XML: one testcase per case, its clauses in the name; FAIL and NON-STRICT are
//! failures, ERROR an error, NOT_RUN and EXCLUDED skipped with the reason.

use std::fmt::Write;

use super::Exporter;
use crate::report::export::escape;
use crate::results::certificate::{Certificate, Verdict};

/// The JUnit exporter.
pub struct Junit;

impl Exporter<Certificate> for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(&self, c: &Certificate) -> Vec<u8> {
        let count = |f: &dyn Fn(Verdict) -> bool| c.cases.iter().filter(|r| f(r.verdict)).count();
        let failures = count(&|v| matches!(v, Verdict::Fail | Verdict::NonStrict));
        let errors = count(&|v| v == Verdict::Error);
        let skipped = count(&|v| matches!(v, Verdict::NotRun | Verdict::Excluded));
        let time: f64 = c.cases.iter().map(|r| r.duration_s).sum();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"harness certify\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            c.cases.len()
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"certify.{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" timestamp=\"{}\" time=\"{time:.3}\">",
            c.level.name(),
            c.cases.len(),
            escape(&c.started_at)
        );
        for r in &c.cases {
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&r.clauses.join(",")),
                escape(&r.id),
                r.duration_s
            );
            let body = match r.verdict {
                Verdict::Fail | Verdict::NonStrict => format!(
                    "<failure type=\"{}\" message=\"{}\">{}</failure>",
                    r.verdict.label(),
                    escape(&r.observed),
                    escape(&r.reproduce)
                ),
                Verdict::Error => format!(
                    "<error message=\"{}\">{}</error>",
                    escape(&r.observed),
                    escape(&r.reproduce)
                ),
                Verdict::NotRun | Verdict::Excluded => format!(
                    "<skipped message=\"{}: {}\"/>",
                    r.verdict.label(),
                    escape(r.reason.as_deref().unwrap_or(""))
                ),
                Verdict::Pass | Verdict::Informational | Verdict::Unimplemented => String::new(),
            };
            if body.is_empty() {
                x.push_str("/>\n");
            } else {
                let _ = writeln!(x, ">{body}</testcase>");
            }
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x.into_bytes()
    }
}
