//! JUnit XML: one testcase per budget or expectation; a failure gives the measured value
//! and the limit; a budget nothing measured is skipped with the reason.

use std::fmt::Write;

use super::{escape, value, Exporter};
use crate::results::{Results, Status};

/// The JUnit exporter.
pub struct Junit;

impl Exporter<Results> for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(&self, r: &Results) -> Vec<u8> {
        let failures = r
            .budgets
            .iter()
            .filter(|b| b.status == Status::Fail)
            .count();
        let skipped = r
            .budgets
            .iter()
            .filter(|b| b.status == Status::NotApplicable)
            .count();
        let suite = format!("harness.{}.{}", r.scenario.name, r.scenario.profile);
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"harness\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            r.budgets.len()
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" timestamp=\"{}\" time=\"{:.3}\">",
            escape(&suite),
            r.budgets.len(),
            escape(&r.started_at),
            r.duration_s
        );
        for b in &r.budgets {
            let class = if b.name.starts_with("chaos.") {
                "expectations"
            } else {
                "budgets"
            };
            let _ = write!(
                x,
                "    <testcase classname=\"{}.{class}\" name=\"{}\"",
                escape(&suite),
                escape(&b.name)
            );
            let limit = value(b.unit, b.limit);
            match b.status {
                Status::Pass => {
                    let _ = writeln!(x, "/>");
                }
                Status::Fail => {
                    let measured = b
                        .measured
                        .map_or_else(|| "nothing".into(), |m| value(b.unit, m));
                    let _ = writeln!(x, ">");
                    let _ = writeln!(
                        x,
                        "      <failure message=\"measured {} against a limit of {}\" type=\"budget\">{} (seed {})</failure>",
                        escape(&measured),
                        escape(&limit),
                        escape(&b.detail),
                        escape(&b.seed)
                    );
                    let _ = writeln!(x, "    </testcase>");
                }
                Status::NotApplicable => {
                    let _ = writeln!(x, ">");
                    let _ = writeln!(x, "      <skipped message=\"{}\"/>", escape(&b.detail));
                    let _ = writeln!(x, "    </testcase>");
                }
            }
        }
        let _ = writeln!(x, "  </testsuite>");
        let _ = writeln!(x, "</testsuites>");
        x.into_bytes()
    }
}
