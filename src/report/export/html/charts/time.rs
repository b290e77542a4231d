//! Charts over the run's seconds, with the fault phases shaded.

use plotters::chart::SeriesLabelStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::windows::Window;
use super::{bands, err, frame, Band, ChartError, FONT, SERIES, WIDTH};
use crate::results::Results;

const HEIGHT: u32 = 360;

/// The time axis: the whole load phase, at least one second.
pub(super) fn x_range(r: &Results) -> std::ops::Range<f64> {
    let last = r.timeline.last().map_or(0.0, |p| p.t as f64 + 1.0);
    0.0..last.max(r.duration_s).max(1.0)
}

/// Shades every band over the full height `y` and names it at the top.
pub(super) fn shade<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    y: (f64, f64),
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(
            bands
                .iter()
                .map(|b| Rectangle::new([(b.from, y.0), (b.to, y.1)], b.color.filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(bands.iter().map(|b| {
            Text::new(
                b.label.clone(),
                (b.from, y.1),
                (FONT, 14).into_font().color(&BLACK.mix(0.7)),
            )
        }))
        .map_err(err)?;
    Ok(())
}

/// Draws into a fresh SVG of the standard size.
pub(super) fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(root.clone())?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A legend entry's swatch.
fn swatch(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
}

/// One line per series, skipping windows where `value` is `None`.
pub(super) fn line<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    windows: &[Window],
    name: &str,
    color: RGBColor,
    value: impl Fn(&Window) -> Option<f64>,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    // A gap (a window without a value) splits the line, so it does not bridge holes.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for w in windows {
        match value(w) {
            Some(v) => runs.last_mut().map_or((), |r| r.push((w.mid, v))),
            None => runs.push(Vec::new()),
        }
    }
    let mut first = true;
    for run in runs.into_iter().filter(|r| !r.is_empty()) {
        let series = chart
            .draw_series(LineSeries::new(run, color.stroke_width(2)))
            .map_err(err)?;
        if first {
            series.label(name).legend(swatch(color));
            first = false;
        }
    }
    Ok(())
}

/// The x axis' caption, with the window width when seconds were folded.
pub(super) fn x_desc(windows: &[Window]) -> String {
    match windows.first().map_or(1, |w| w.seconds) {
        1 => "seconds from the start of load".to_owned(),
        n => format!("seconds from the start of load ({n}-s windows)"),
    }
}

/// The bounds of a log axis over `seen` (ms): half the least below, with headroom on
/// top that keeps the key in the upper right clear of the lines.
pub(super) fn log_range(seen: &[f64]) -> (f64, f64) {
    let lo = seen.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = seen.iter().copied().fold(0.0, f64::max);
    if seen.is_empty() {
        (0.1, 10.0)
    } else {
        ((lo / 2.0).max(0.01), (hi * 5.0).max(lo * 10.0))
    }
}

/// p50, p95 and p99 per second (or per window), in ms on a log axis.
pub fn latency(r: &Results, windows: &[Window]) -> Result<String, ChartError> {
    let ms = |us: u64| us as f64 / 1000.0;
    let seen: Vec<f64> = windows
        .iter()
        .filter(|w| w.point.requests > 0)
        .flat_map(|w| [ms(w.point.p50_us), ms(w.point.p99_us)])
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
            .y_desc("latency, ms (log)")
            .y_label_formatter(&|v| short(*v))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (lo, hi))?;
        let pick =
            |f: fn(&Window) -> u64| move |w: &Window| (w.point.requests > 0).then(|| ms(f(w)));
        line(
            &mut chart,
            windows,
            "p50",
            SERIES[0],
            pick(|w| w.point.p50_us),
        )?;
        line(
            &mut chart,
            windows,
            "p95",
            SERIES[1],
            pick(|w| w.point.p95_us),
        )?;
        line(
            &mut chart,
            windows,
            "p99",
            SERIES[3],
            pick(|w| w.point.p99_us),
        )?;
        legend(&mut chart)
    })
}

/// Transactions started per second (left axis) and the share of them that failed
/// (right axis).
pub fn throughput(r: &Results, windows: &[Window]) -> Result<String, ChartError> {
    let x = x_range(r);
    let top = windows.iter().map(Window::throughput).fold(0.0, f64::max);
    let top = (top * 1.15).max(1.0);
    let rate = |w: &Window| w.share(w.point.errors);
    let err_top = windows.iter().filter_map(rate).fold(0.0, f64::max);
    let err_top = (err_top * 1.15).clamp(5.0, 100.0);
    svg(|root| {
        let mut chart = frame(&root, 64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(x.clone(), 0.0..top)
            .map_err(err)?
            .set_secondary_coord(x.clone(), 0.0..err_top);
        chart
            .configure_mesh()
            .x_desc(x_desc(windows))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("transactions / s")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_desc("errors, %")
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (0.0, top))?;
        line(&mut chart, windows, "throughput", SERIES[0], |w| {
            Some(w.throughput())
        })?;
        let points: Vec<(f64, f64)> = windows
            .iter()
            .filter_map(|w| rate(w).map(|v| (w.mid, v)))
            .collect();
        chart
            .draw_secondary_series(LineSeries::new(
                points,
                RGBColor(214, 39, 40).stroke_width(2),
            ))
            .map_err(err)?
            .label("error rate (right)")
            .legend(swatch(RGBColor(214, 39, 40)));
        styled(&mut chart.configure_series_labels())
            .draw()
            .map_err(err)
    })
}

/// Answers with a fallback, and answers marked degraded, as a share of each second's
/// (or window's) transactions.
pub fn fallbacks(r: &Results, windows: &[Window]) -> Result<String, ChartError> {
    let x = x_range(r);
    svg(|root| {
        let mut chart = frame(&root, 64)
            .build_cartesian_2d(x.clone(), 0.0..105.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc(windows))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("share of transactions, %")
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (0.0, 105.0))?;
        line(&mut chart, windows, "fallback", SERIES[1], |w| {
            w.share(w.point.fallbacks)
        })?;
        line(&mut chart, windows, "degraded", SERIES[3], |w| {
            w.share(w.point.degraded)
        })?;
        legend(&mut chart)
    })
}

pub(super) fn legend<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    styled(&mut chart.configure_series_labels())
        .draw()
        .map_err(err)
}

/// The key's look, the same on every chart: top right, over a pale box.
fn styled<'x, 'a, 'b, DB, CT>(
    labels: &'x mut SeriesLabelStyle<'a, 'b, DB, CT>,
) -> &'x mut SeriesLabelStyle<'a, 'b, DB, CT>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    labels
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
}

/// A millisecond axis label: no trailing zeros, no float noise.
pub fn short(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}s", trim(v / 1000.0))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
