//! The charts of a run whose transactions stream: time to first token and inter-token
//! latency over time, and goodput (`--slo`) per second across the phases.

use plotters::prelude::*;

use super::time::{legend, line, log_range, shade, short, svg, x_desc, x_range};
use super::windows::Window;
use super::{bands, err, frame, ChartError, FONT, SERIES};
use crate::results::Results;

/// TTFT p50 and p95, and ITL p99, per second (or window), in ms on a log axis.
pub fn ttft_itl(r: &Results, windows: &[Window]) -> Result<String, ChartError> {
    let ms = |us: u64| us as f64 / 1000.0;
    let streamed = |w: &Window| w.point.stream.as_ref().filter(|s| s.streams > 0).cloned();
    let seen: Vec<f64> = windows
        .iter()
        .filter_map(streamed)
        .flat_map(|s| [ms(s.ttft_p50_us), ms(s.ttft_p95_us), ms(s.itl_p99_us)])
        .filter(|v| *v > 0.0)
        .collect();
    let (lo, hi) = log_range(&seen);
    let x = x_range(r);
    svg(|root| {
        let mut chart = frame(&root, 64)
            .build_cartesian_2d(x.clone(), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc(windows))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("ms (log)")
            .y_label_formatter(&|v| short(*v))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &super::bands(r), (lo, hi))?;
        let pick = |f: fn(&crate::results::StreamPoint) -> u64| {
            move |w: &Window| streamed(w).map(|s| ms(f(&s))).filter(|v| *v > 0.0)
        };
        line(
            &mut chart,
            windows,
            "TTFT p50",
            SERIES[0],
            pick(|s| s.ttft_p50_us),
        )?;
        line(
            &mut chart,
            windows,
            "TTFT p95",
            SERIES[1],
            pick(|s| s.ttft_p95_us),
        )?;
        line(
            &mut chart,
            windows,
            "ITL p99",
            SERIES[3],
            pick(|s| s.itl_p99_us),
        )?;
        legend(&mut chart)
    })
}

/// The share of each second's (or window's) transactions that met every objective of
/// `--slo`.
pub fn goodput(r: &Results, windows: &[Window]) -> Result<String, ChartError> {
    let x = x_range(r);
    let slo = r.goodput.as_ref().map_or("", |g| g.slo.as_str()).to_owned();
    svg(|root| {
        let mut chart = frame(&root, 64)
            .build_cartesian_2d(x.clone(), 0.0..105.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc(windows))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("met every objective, %")
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (0.0, 105.0))?;
        line(
            &mut chart,
            windows,
            &format!("goodput ({slo})"),
            SERIES[2],
            |w| w.point.slo_met.and_then(|m| w.share(m)),
        )?;
        legend(&mut chart)
    })
}
