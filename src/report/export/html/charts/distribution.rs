//! The HDR percentile plot: latency against percentile, with the percentile axis on a
//! log scale of 1/(1 − q) so the tail (99%, 99.9%, …) gets as much room as the body.

use plotters::prelude::*;

use super::time::short;
use super::{err, frame, ChartError, FONT, SERIES, WIDTH};
use crate::record::{Decode, Latency};
use crate::results::{HistogramSummary, Results};

const HEIGHT: u32 = 400;
/// Points per curve, spread evenly over the log axis.
const STEPS: u32 = 240;

/// Where a curve's points come from.
enum Source {
    /// The stored histogram: every percentile.
    Histogram(Latency),
    /// Only the summary's p50, p95, p99 and max (a results file whose histograms were
    /// stripped, e.g. to keep a fixture small).
    Summary(HistogramSummary),
}

impl Source {
    fn count(&self) -> u64 {
        match self {
            Source::Histogram(h) => h.count(),
            Source::Summary(s) => s.count,
        }
    }

    /// (1/(1 − q), ms) points up to `x_max`.
    fn points(&self, decades: f64) -> Vec<(f64, f64)> {
        let ms = |us: u64| us as f64 / 1000.0;
        match self {
            Source::Histogram(h) => (0..=STEPS)
                .map(|i| {
                    let x = 10f64.powf(decades * f64::from(i) / f64::from(STEPS));
                    (x, ms(h.percentile_us(100.0 * (1.0 - 1.0 / x))))
                })
                .collect(),
            Source::Summary(s) => vec![
                (2.0, ms(s.p50_us)),
                (20.0, ms(s.p95_us)),
                (100.0, ms(s.p99_us)),
                (
                    (s.count as f64).clamp(100.0, 10f64.powf(decades)),
                    ms(s.max_us),
                ),
            ],
        }
    }
}

/// The curves: every transaction (corrected for coordinated omission, and as measured
/// when that differs), or each phase of a chaos run.
fn curves(r: &Results) -> Vec<(String, Source)> {
    let mut out = Vec::new();
    let mut add = |name: String, s: &HistogramSummary| match s.histogram() {
        Ok(h) if h.count() > 0 => out.push((name, Source::Histogram(h))),
        _ if s.count > 0 => out.push((
            format!("{name} (p50/p95/p99/max only)"),
            Source::Summary(s.clone()),
        )),
        _ => {}
    };
    // A chaos run's overall figures cover its baseline only (that is what its budgets
    // score), so its phases say more.
    if r.phases.is_empty() {
        add("all transactions".into(), &r.overall);
        if r.overall_raw.count != r.overall.count || r.overall_raw.p99_us != r.overall.p99_us {
            add("as measured (uncorrected)".into(), &r.overall_raw);
        }
    }
    for p in &r.phases {
        add(format!("{} phase", p.name), &p.latency);
    }
    out
}

/// `x` = 1/(1 − q) as a percentile label: 1 → 0%, 10 → 90%, 1000 → 99.9%.
fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x.max(1.0));
    let s = format!("{q:.4}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The percentile plot as SVG.
pub fn percentiles(r: &Results) -> Result<String, ChartError> {
    let curves = curves(r);
    let most = curves.iter().map(|(_, h)| h.count()).max().unwrap_or(10);
    // No point plotting beyond the percentile the samples can resolve.
    let decades = (most.max(10) as f64).log10().ceil().clamp(1.0, 6.0);
    let x_max = 10f64.powf(decades);
    let points: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(name, source)| (name.clone(), source.points(decades)))
        .collect();
    let ys = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
        .filter(|y| *y > 0.0);
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let (lo, hi) = if lo.is_finite() {
        ((lo / 2.0).max(0.01), (hi * 2.0).max(lo * 10.0))
    } else {
        (0.1, 10.0)
    };
    let keys: Vec<f64> = (0..=decades as i32).map(|d| 10f64.powi(d)).collect();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = frame(&root, 64)
            .build_cartesian_2d(
                (1.0..x_max).log_scale().with_key_points(keys),
                (lo..hi).log_scale(),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency, ms (log)")
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|v| short(*v))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        for (i, (name, pts)) in points.into_iter().enumerate() {
            let color = SERIES[i % SERIES.len()];
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::percentile_label;

    #[test]
    fn the_log_axis_reads_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10000.0), "99.99%");
    }
}
