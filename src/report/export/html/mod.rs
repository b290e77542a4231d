//! HTML: one self-contained file for people. The verdict is on top, then the charts
//! (inline SVG drawn with plotters), the budget table, the environment, the scenario and
//! the command that reproduces the run. Nothing is fetched: no fonts, scripts or images
//! from elsewhere.

pub mod charts;
mod sections;

use std::fmt::Write;

use super::{escape, Exporter};
use crate::results::Results;

/// The HTML exporter.
pub struct Html;

pub(crate) const STYLE: &str = include_str!("report.css");

/// Runs in the reader's browser: marks the page with how many charts rendered and
/// whether any script error happened, so a headless browser can check the page
/// (`ci/html-check`). It fetches nothing.
pub(crate) const SELF_CHECK: &str = "window.addEventListener('error',function(){document.body.dataset.errors=String(Number(document.body.dataset.errors||0)+1);});\
window.addEventListener('load',function(){var n=0;document.querySelectorAll('figure.chart svg').forEach(function(s){var b=s.getBBox();if(b.width>0&&b.height>0){n++;}});document.body.dataset.rendered=String(n);document.body.dataset.errors=document.body.dataset.errors||'0';});";

impl Exporter<Results> for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, r: &Results) -> Vec<u8> {
        let verdict = if r.verdict.passed { "PASS" } else { "FAIL" };
        let charts = charts::all(r);
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>harness {verdict}: {} / {} ({})</title>\n<style>{STYLE}</style>\n</head>\n\
             <body data-charts=\"{}\">\n",
            escape(&r.scenario.name),
            escape(&r.scenario.profile),
            escape(&r.run_id),
            charts.len()
        );
        sections::verdict(&mut h, r);
        if !r.phases.is_empty() {
            sections::phases(&mut h, r);
        }
        if let Some(a) = r.chaos.as_ref().and_then(|c| c.alerts.as_ref()) {
            sections::alerts(&mut h, a);
        }
        let _ = writeln!(h, "<section id=\"charts\">\n<h2>Charts</h2>");
        for c in &charts {
            let _ = writeln!(h, "<figure class=\"chart\" id=\"{}\">", c.id);
            match &c.svg {
                Ok(svg) => h.push_str(
                    svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                        .trim(),
                ),
                Err(e) => {
                    let _ = write!(
                        h,
                        "<p class=\"chart-error\">This chart could not be drawn: {}</p>",
                        escape(&e.0)
                    );
                }
            }
            let _ = writeln!(
                h,
                "\n<figcaption>{}</figcaption>\n</figure>",
                escape(c.title)
            );
        }
        let _ = writeln!(h, "</section>");
        sections::budgets(&mut h, r);
        sections::environment(&mut h, r);
        sections::scenario(&mut h, r);
        sections::command(&mut h, r);
        let _ = write!(h, "<script>{SELF_CHECK}</script>\n</body>\n</html>\n");
        h.into_bytes()
    }
}

#[cfg(test)]
mod tests;
