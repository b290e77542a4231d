//! `gate.html`: the verdict on top, then one row a metric: its per-block values for
//! both sides drawn in run order (base blue, head orange; a left-out pair hollow), and
//! its change's 95% interval drawn against the threshold and the noise floor. One
//! self-contained file; the SVG is written here.

use std::fmt::Write;

use super::{cells, headline, judged_by, rows, Exporter};
use crate::report::export::escape;
use crate::report::export::html::{SELF_CHECK, STYLE};
use crate::results::{GateCall, GateMetric, GateReport, GateSide, MetricScale};

/// The HTML exporter.
pub struct Html;

const BW: f64 = 260.0;
const IW: f64 = 220.0;
const H: f64 = 60.0;
const PAD: f64 = 8.0;

impl Exporter<GateReport> for Html {
    fn file_name(&self) -> &'static str {
        "gate.html"
    }

    fn render(&self, g: &GateReport) -> Vec<u8> {
        let mut h = String::new();
        // Two charts a metric: its blocks and its interval.
        let n = 2 * rows(g).count();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>harness gate: {}</title>\n<style>{STYLE}\
             td.c,th.c{{text-align:center}} .regressed{{background:#fdd}}</style>\n</head>\n\
             <body data-charts=\"{n}\">\n<section id=\"verdict\">\n<h1>Gate: {}</h1>\n\
             <p>{}.</p>\n<p>{}.</p>\n</section>\n",
            g.call.as_str(),
            g.call.as_str(),
            escape(&headline(g)),
            escape(&judged_by(g)),
        );
        let _ = writeln!(
            h,
            "<section id=\"metrics\">\n<table>\n<thead><tr><th>metric</th><th>base</th>\
             <th>head</th><th>change</th><th>95% interval</th><th>noise floor</th>\
             <th>verdict</th><th class=\"c\">blocks (base ● head ●)</th>\
             <th class=\"c\">change, interval, ±threshold</th></tr></thead>\n<tbody>"
        );
        for m in rows(g) {
            let cls = if m.call == GateCall::Regressed {
                " class=\"regressed\""
            } else {
                ""
            };
            let text: String = cells(m)
                .iter()
                .map(|c| format!("<td>{}</td>", escape(c)))
                .collect();
            let _ = writeln!(
                h,
                "<tr{cls}>{text}<td><figure class=\"chart\">{}</figure></td>\
                 <td><figure class=\"chart\">{}</figure></td></tr>",
                blocks_chart(g, m),
                interval_chart(m)
            );
        }
        let _ = writeln!(
            h,
            "</tbody></table>\n</section>\n<section id=\"method\">\n<h2>Method</h2>\n<p>{}</p>\n</section>",
            escape(&g.method)
        );
        let _ = write!(h, "<script>{SELF_CHECK}</script>\n</body>\n</html>\n");
        h.into_bytes()
    }
}

/// Each block's value in run order, base and head in their colours; the blocks of a
/// pair left out are hollow.
fn blocks_chart(g: &GateReport, m: &GateMetric) -> String {
    // The k-th block of a side holds that side's k-th value.
    let mut seen = [0usize; 2];
    let points: Vec<(usize, GateSide, Option<f64>, bool)> = g
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let k = match b.side {
                GateSide::Base => &mut seen[0],
                GateSide::Head => &mut seen[1],
            };
            let values = match b.side {
                GateSide::Base => &m.base_values,
                GateSide::Head => &m.head_values,
            };
            // The values hold the pairs that counted only; a left-out block has none.
            let v = if b.excluded.is_some() {
                None
            } else {
                let v = values.get(*k).copied().flatten();
                *k += 1;
                v
            };
            (i, b.side, v, b.excluded.is_some())
        })
        .collect();
    let vals: Vec<f64> = points.iter().filter_map(|p| p.2).collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let span = if hi > lo { hi - lo } else { hi.abs().max(1e-9) };
    let x = |i: usize| PAD + (BW - 2.0 * PAD) * (i as f64 + 0.5) / points.len().max(1) as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * (v - lo) / span;
    let mut s = format!(
        "<svg width=\"{BW}\" height=\"{H}\" viewBox=\"0 0 {BW} {H}\" \
         role=\"img\" aria-label=\"{} per block\">",
        escape(&m.metric)
    );
    for (i, side, v, out) in &points {
        let colour = match side {
            GateSide::Base => "#1f77b4",
            GateSide::Head => "#ff7f0e",
        };
        let cy = v.map_or(H / 2.0, y);
        let fill = if *out { "none" } else { colour };
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"3.5\" fill=\"{fill}\" stroke=\"{colour}\"><title>block {i} {}: {}</title></circle>",
            x(*i),
            side.as_str(),
            v.map_or_else(|| "left out".into(), |v| format!("{v:.4}")),
        );
    }
    s.push_str("</svg>");
    s
}

/// The change's interval and point against ±threshold (dashed red) and ±noise floor
/// (grey band), on an axis wide enough for all of them.
fn interval_chart(m: &GateMetric) -> String {
    let mut s = format!(
        "<svg width=\"{IW}\" height=\"{H}\" viewBox=\"0 0 {IW} {H}\" \
         role=\"img\" aria-label=\"{} change interval\">",
        escape(&m.metric)
    );
    let reach = [m.low, m.high, m.noise_floor, Some(m.threshold)]
        .iter()
        .flatten()
        .fold(m.threshold, |a, v| a.max(v.abs()))
        * 1.2;
    let x = |v: f64| IW / 2.0 + (IW / 2.0 - PAD) * (v / reach).clamp(-1.0, 1.0);
    if let Some(f) = m.noise_floor {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{PAD}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ddd\"><title>noise floor ±{f:.4}</title></rect>",
            x(-f),
            x(f) - x(-f),
            H - 2.0 * PAD
        );
    }
    for t in [-m.threshold, m.threshold] {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{PAD}\" y2=\"{1:.1}\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>",
            x(t),
            H - PAD
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{PAD}\" y2=\"{1:.1}\" stroke=\"#888\"/>",
        x(0.0),
        H - PAD
    );
    if let (Some(lo), Some(hi), Some(c)) = (m.low, m.high, m.change) {
        let unit = match m.scale {
            MetricScale::Ratio => "ratio − 1",
            MetricScale::Share => "points",
        };
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" stroke=\"#000\" stroke-width=\"3\"><title>95% interval [{lo:.4}, {hi:.4}] ({unit})</title></line>\
             <circle cx=\"{cx:.1}\" cy=\"{mid:.1}\" r=\"4\" fill=\"#000\"/>",
            x1 = x(lo),
            x2 = x(hi),
            cx = x(c),
            mid = H / 2.0,
        );
    }
    s.push_str("</svg>");
    s
}
