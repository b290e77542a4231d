//! The report's charts, each an SVG string drawn with plotters. A chart that cannot be
//! drawn is an error message in its place, never a missing report.

mod alerts;
mod bars;
mod distribution;
mod stream;
mod time;
pub mod windows;

use plotters::prelude::*;
use plotters::style::RGBAColor;

use crate::results::{PhaseName, Results};

/// One chart of the report.
pub struct Chart {
    /// The element id in the page, e.g. `latency-over-time`.
    pub id: &'static str,
    /// The caption under it.
    pub title: &'static str,
    /// The SVG, or why it could not be drawn.
    pub svg: Result<String, ChartError>,
}

/// Every chart of the report, in page order.
pub fn all(r: &Results) -> Vec<Chart> {
    // Folded once: a long run's windows merge thousands of histograms.
    let windows = windows::fold(&r.timeline, windows::MAX_POINTS);
    let mut charts = vec![
        Chart {
            id: "latency-distribution",
            title: "Latency by percentile (HDR, log scale)",
            svg: distribution::percentiles(r),
        },
        Chart {
            id: "latency-over-time",
            title: "Latency percentiles over time",
            svg: time::latency(r, &windows),
        },
        Chart {
            id: "throughput-errors",
            title: "Throughput and error rate over time",
            svg: time::throughput(r, &windows),
        },
        Chart {
            id: "fallback-rate",
            title: "Fallback and degraded answers over time",
            svg: time::fallbacks(r, &windows),
        },
    ];
    // Only a run whose transactions stream has these figures, and only one with --slo
    // has goodput.
    if r.streams.is_some() {
        charts.push(Chart {
            id: "ttft-itl",
            title: "Time to first token and inter-token latency over time",
            svg: stream::ttft_itl(r, &windows),
        });
    }
    if r.goodput.is_some() {
        charts.push(Chart {
            id: "goodput",
            title: "Goodput: transactions that met every objective of --slo",
            svg: stream::goodput(r, &windows),
        });
    }
    // Only a chaos run that started the alert components has a record of its alerts.
    if let Some(a) = r.chaos.as_ref().and_then(|c| c.alerts.as_ref()) {
        charts.push(Chart {
            id: "alert-timeline",
            title: "Alerts: each firing from its notification to its resolution (green expected, amber tolerated, red false alarm)",
            svg: alerts::timeline(r, a),
        });
    }
    charts.extend([
        Chart {
            id: "budgets",
            title: "Budgets: measured against limit",
            svg: bars::budgets(r),
        },
        Chart {
            id: "status-mix",
            title: "Status codes",
            svg: bars::statuses(r),
        },
    ]);
    charts
}

/// Chart width in pixels; the page scales them down on narrow screens.
const WIDTH: u32 = 960;
/// The series colours, readable on white and apart from the phase shading.
const SERIES: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const FONT: &str = "sans-serif";

/// A stretch of the time axis to shade: a fault phase, a recovery, a warm-up.
pub struct Band {
    /// Start, seconds from the start of load.
    pub from: f64,
    /// End, seconds from the start of load.
    pub to: f64,
    /// Shown at the top of the band.
    pub label: String,
    /// Fill.
    pub color: RGBAColor,
}

/// The bands of `r`: a chaos run's fault (red) and recovery (green) phases, or the
/// warm-up (grey) of a plain run.
pub fn bands(r: &Results) -> Vec<Band> {
    if r.phases.is_empty() {
        return (r.warmup_s > 0.0)
            .then(|| Band {
                from: 0.0,
                to: r.warmup_s,
                label: "warm-up".into(),
                color: RGBColor(120, 120, 120).mix(0.15),
            })
            .into_iter()
            .collect();
    }
    r.phases
        .iter()
        .filter_map(|p| {
            let (label, color) = match p.name {
                PhaseName::Fault => (
                    format!("fault: {}", p.faults.join(", ")),
                    RGBColor(214, 39, 40).mix(0.18),
                ),
                PhaseName::Recovery => ("recovery".to_owned(), RGBColor(44, 160, 44).mix(0.10)),
                PhaseName::Baseline => return None,
            };
            Some(Band {
                from: p.start_s,
                to: p.end_s,
                label,
                color,
            })
        })
        .collect()
}

/// The frame every chart is drawn in: the same margins and axis label areas, with
/// `y_labels` pixels for the y axis's labels.
fn frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    y_labels: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.margin(12)
        .x_label_area_size(36)
        .y_label_area_size(y_labels);
    b
}

/// A chart that plotters could not draw; the report shows this in its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chart not drawn: {0}")]
pub struct ChartError(pub String);

/// plotters' error, kept as its debug text: its error types borrow the backend.
fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}
