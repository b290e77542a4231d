//! Charts over the run's seconds, with the fault phases shaded.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{bands, err, Band, FONT, SERIES, WIDTH};
use crate::results::{Results, SecondPoint};

const HEIGHT: u32 = 360;

/// The time axis: the whole load phase, at least one second.
fn x_range(r: &Results) -> std::ops::Range<f64> {
    let last = r.timeline.last().map_or(0.0, |p| p.t as f64 + 1.0);
    0.0..last.max(r.duration_s).max(1.0)
}

/// Shades every band over the full height `y` and names it at the top.
fn shade<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    y: (f64, f64),
) -> Result<(), String>
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
fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<String, String> {
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

/// One line per series, skipping seconds where `value` is `None`.
fn line<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    points: &[SecondPoint],
    name: &str,
    color: RGBColor,
    value: impl Fn(&SecondPoint) -> Option<f64>,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    // A gap (a second without a value) splits the line, so it does not bridge holes.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in points {
        match value(p) {
            Some(v) => runs
                .last_mut()
                .map_or((), |r| r.push((p.t as f64 + 0.5, v))),
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

/// p50, p95 and p99 per second, in ms on a log axis.
pub fn latency(r: &Results) -> Result<String, String> {
    let ms = |us: u64| us as f64 / 1000.0;
    let seen: Vec<f64> = r
        .timeline
        .iter()
        .filter(|p| p.requests > 0)
        .flat_map(|p| [ms(p.p50_us), ms(p.p99_us)])
        .collect();
    let lo = seen.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = seen.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if seen.is_empty() {
        (0.1, 10.0)
    } else {
        ((lo / 2.0).max(0.01), (hi * 2.0).max(lo * 10.0))
    };
    let x = x_range(r);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x.clone(), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds from the start of load")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("latency, ms (log)")
            .y_label_formatter(&|v| short(*v))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (lo, hi))?;
        let has = |p: &SecondPoint| p.requests > 0;
        line(&mut chart, &r.timeline, "p50", SERIES[0], |p| {
            has(p).then(|| ms(p.p50_us))
        })?;
        line(&mut chart, &r.timeline, "p95", SERIES[1], |p| {
            has(p).then(|| ms(p.p95_us))
        })?;
        line(&mut chart, &r.timeline, "p99", SERIES[3], |p| {
            has(p).then(|| ms(p.p99_us))
        })?;
        legend(&mut chart)
    })
}

/// Transactions started per second (left axis) and the share of them that failed
/// (right axis).
pub fn throughput(r: &Results) -> Result<String, String> {
    let x = x_range(r);
    let top = r.timeline.iter().map(|p| p.requests).max().unwrap_or(0) as f64;
    let top = (top * 1.15).max(1.0);
    let rate =
        |p: &SecondPoint| (p.requests > 0).then(|| 100.0 * p.errors as f64 / p.requests as f64);
    let err_top = r.timeline.iter().filter_map(rate).fold(0.0, f64::max);
    let err_top = (err_top * 1.15).clamp(5.0, 100.0);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(x.clone(), 0.0..top)
            .map_err(err)?
            .set_secondary_coord(x.clone(), 0.0..err_top);
        chart
            .configure_mesh()
            .x_desc("seconds from the start of load")
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
        line(&mut chart, &r.timeline, "throughput", SERIES[0], |p| {
            Some(p.requests as f64)
        })?;
        let points: Vec<(f64, f64)> = r
            .timeline
            .iter()
            .filter_map(|p| rate(p).map(|v| (p.t as f64 + 0.5, v)))
            .collect();
        chart
            .draw_secondary_series(LineSeries::new(
                points,
                RGBColor(214, 39, 40).stroke_width(2),
            ))
            .map_err(err)?
            .label("error rate (right)")
            .legend(swatch(RGBColor(214, 39, 40)));
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)
    })
}

/// Answers with a fallback, and answers marked degraded, as a share of each second's
/// transactions.
pub fn fallbacks(r: &Results) -> Result<String, String> {
    let x = x_range(r);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x.clone(), 0.0..105.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds from the start of load")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("share of transactions, %")
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (0.0, 105.0))?;
        let share = |n: u64, p: &SecondPoint| {
            (p.requests > 0).then(|| 100.0 * n as f64 / p.requests as f64)
        };
        line(&mut chart, &r.timeline, "fallback", SERIES[1], |p| {
            share(p.fallbacks, p)
        })?;
        line(&mut chart, &r.timeline, "degraded", SERIES[3], |p| {
            share(p.degraded, p)
        })?;
        legend(&mut chart)
    })
}

fn legend<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)
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
