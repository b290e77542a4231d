//! `capacity.html`: the answer on top, the capacity curve (throughput against p95 and
//! goodput, with the budget line and the capacity marked), then a table per step. One
//! self-contained file; the SVG is written here, point by point.

use std::fmt::Write;

use super::{headline, step_cells, Exporter};
use crate::report::export::html::{SELF_CHECK, STYLE};
use crate::report::export::{escape, value};
use crate::results::{Capacity, Unit};

/// The HTML exporter.
pub struct Html;

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

impl Exporter<Capacity> for Html {
    fn file_name(&self) -> &'static str {
        "capacity.html"
    }

    fn render(&self, c: &Capacity) -> Vec<u8> {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>harness capacity: {}</title>\n<style>{STYLE}</style>\n</head>\n\
             <body data-charts=\"1\">\n<section id=\"verdict\">\n<h1>Capacity: {}</h1>\n\
             <p>{}.</p>\n</section>\n",
            escape(&c.scenario),
            escape(&c.scenario),
            escape(&headline(c))
        );
        let _ = writeln!(
            h,
            "<section id=\"charts\">\n<figure class=\"chart\" id=\"capacity-curve\">\n{}\n\
             <figcaption>Throughput (x) against p95 (red, left axis) and goodput (green, right \
             axis) per probe; dashed: the per-request budget, when it falls within the axis; the \
             capacity is marked.</figcaption>\n\
             </figure>\n</section>",
            curve(c)
        );
        let _ = writeln!(
            h,
            "<section id=\"steps\">\n<h2>Steps</h2>\n<table>\n<thead><tr><th>{}</th><th>repeat</th>\
             <th>throughput/s</th><th>goodput/s</th><th>p50</th><th>p95</th><th>p99</th>\
             <th>errors</th><th>late</th><th>dropped</th><th>budgets</th></tr></thead>\n<tbody>",
            escape(&c.load_unit)
        );
        for s in &c.steps {
            let cells: Vec<String> = step_cells(s)
                .iter()
                .map(|c| format!("<td>{}</td>", escape(c)))
                .collect();
            let _ = writeln!(
                h,
                "<tr class=\"{}\">{}</tr>",
                if s.passed { "pass" } else { "fail" },
                cells.concat()
            );
            if !s.operations_p95_ms.is_empty() {
                let ops: Vec<String> = s
                    .operations_p95_ms
                    .iter()
                    .map(|(k, v)| format!("{} {}", escape(k), value(Unit::Ms, *v)))
                    .collect();
                let _ = writeln!(
                    h,
                    "<tr class=\"ops\"><td></td><td colspan=\"10\">p95 per operation: {}</td></tr>",
                    ops.join("; ")
                );
            }
        }
        let _ = writeln!(
            h,
            "</tbody>\n</table>\n</section>\n<section id=\"method\">\n<h2>How</h2>\n<p>{}</p>\n\
             <pre>{}</pre>\n</section>",
            escape(&c.method_note),
            escape(&c.command.join(" "))
        );
        let _ = write!(h, "<script>{SELF_CHECK}</script>\n</body>\n</html>\n");
        h.into_bytes()
    }
}

/// The curve as SVG.
fn curve(c: &Capacity) -> String {
    let max_x = c.steps.iter().map(|s| s.throughput_rps).fold(1.0, f64::max) * 1.1;
    // The per-request limit goodput counts against: by default the whole request's p95
    // budget (request_handler.handle_request.p95).
    let limit = Some(c.goodput_limit_ms);
    // The axis fits the measured p95; the limit is drawn only when it falls within.
    let max_p95 = c.steps.iter().map(|s| s.p95_ms).fold(1.0, f64::max) * 1.25;
    let limit = limit.filter(|l| *l <= max_p95);
    let max_good = c.steps.iter().map(|s| s.goodput_rps).fold(1.0, f64::max) * 1.1;
    let x = |v: f64| LEFT + v / max_x * (W - LEFT - RIGHT);
    let y = |v: f64, max: f64| H - BOTTOM - v / max * (H - TOP - BOTTOM);
    let mut points: Vec<_> = c.steps.iter().collect();
    points.sort_by(|a, b| a.throughput_rps.total_cmp(&b.throughput_rps));
    let line = |f: &dyn Fn(&crate::results::CapacityStep) -> f64, max: f64| {
        points
            .iter()
            .map(|s| format!("{:.1},{:.1}", x(s.throughput_rps), y(f(s), max)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" \
         height=\"{H}\" role=\"img\" aria-label=\"capacity curve\">\n\
         <rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n",
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{:.0}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#c0392b\">{:.0}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#27ae60\">{:.0}</text>\n",
            x(max_x * f),
            H - BOTTOM + 16.0,
            max_x * f,
            LEFT - 6.0,
            y(max_p95 * f, max_p95) + 4.0,
            max_p95 * f,
            W - RIGHT + 6.0,
            y(max_good * f, max_good) + 4.0,
            max_good * f
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">throughput, requests/s</text>\n\
         <text x=\"14\" y=\"{:.1}\" font-size=\"12\" fill=\"#c0392b\" transform=\"rotate(-90 14 {:.1})\" \
         text-anchor=\"middle\">p95, ms</text>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#27ae60\" transform=\"rotate(90 {:.1} {:.1})\" \
         text-anchor=\"middle\">goodput, requests/s</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0,
        H / 2.0,
        H / 2.0,
        W - 14.0,
        H / 2.0,
        W - 14.0,
        H / 2.0
    );
    if let Some(l) = limit {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c0392b\" \
             stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" \
             fill=\"#c0392b\">per-request budget {:.0} ms</text>",
            W - RIGHT,
            y(l, max_p95),
            y(l, max_p95),
            LEFT + 6.0,
            y(l, max_p95) - 4.0,
            l
        );
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n\
         <polyline fill=\"none\" stroke=\"#27ae60\" stroke-width=\"2\" points=\"{}\"/>",
        line(&|s| s.p95_ms, max_p95),
        line(&|s| s.goodput_rps, max_good)
    );
    for s in &points {
        let _ = writeln!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\" stroke=\"#c0392b\" \
             stroke-width=\"2\"><title>{} {}: p95 {:.0} ms, {:.1}/s</title></circle>",
            x(s.throughput_rps),
            y(s.p95_ms, max_p95),
            // Hollow: a probe that missed a budget.
            if s.passed { "#c0392b" } else { "#fff" },
            s.load,
            escape(&c.load_unit),
            s.p95_ms,
            s.throughput_rps
        );
    }
    if let Some(cap) = c.capacity {
        if let Some(s) = c.steps.iter().find(|s| s.load == cap) {
            let _ = writeln!(
                svg,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1:.1}\" stroke=\"#2c3e50\"/>\
                 <text x=\"{2:.1}\" y=\"{3:.1}\" font-size=\"12\" fill=\"#2c3e50\" \
                 text-anchor=\"end\">capacity {4} {5}</text>",
                x(s.throughput_rps),
                H - BOTTOM,
                x(s.throughput_rps) - 4.0,
                TOP + 14.0,
                cap,
                if c.load_unit == "users" {
                    "users"
                } else {
                    "requests/s"
                }
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
