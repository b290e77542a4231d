//! Bar charts: each budget's measured value against its limit, and the status-code mix.

use std::collections::BTreeMap;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBAColor;

use super::{err, frame, ChartError, FONT, WIDTH};
use crate::report::export::value;
use crate::results::{Results, Status};

const ROW: u32 = 26;
/// The right margin of the status mix that holds its key.
const LEGEND: u32 = 150;
const PASS: RGBColor = RGBColor(44, 160, 44);
const FAIL: RGBColor = RGBColor(214, 39, 40);

/// The budgets a bar can show: measured, with a limit, and not a chaos expectation
/// (those have bounds in either direction, so "percent of limit" would mislead).
fn bars(r: &Results) -> Vec<(String, f64, String, bool)> {
    r.budgets
        .iter()
        .filter(|b| !b.name.starts_with("chaos.") && b.limit > 0.0)
        .filter_map(|b| {
            let m = b.measured?;
            Some((
                b.name.clone(),
                100.0 * m / b.limit,
                format!("{} of {}", value(b.unit, m), value(b.unit, b.limit)),
                b.status == Status::Fail,
            ))
        })
        .collect()
}

/// Horizontal bars in percent of each budget's limit, with the limit at 100%.
pub fn budgets(r: &Results) -> Result<String, ChartError> {
    // Segment 0 is at the bottom; reversed, the list reads top-down in budget order.
    let mut rows = bars(r);
    rows.reverse();
    let n = rows.len().max(1);
    let height = 90 + ROW * n as u32;
    let widest = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    // Past 300% the bar is clipped; its label still gives the value.
    let x_max = (widest * 1.25).clamp(130.0, 300.0);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let mut chart = frame(&root, 300)
            .build_cartesian_2d(0.0..x_max, 0.0..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("measured, % of the budget's limit")
            .y_labels(0)
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        row_names(&mut chart, &names)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, pct, _, failed))| {
                let color = if *failed { FAIL } else { PASS };
                bar((0.0, pct.min(x_max)), i, color.mix(0.8))
            }))
            .map_err(err)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, pct, text, _))| {
                let x = (pct.min(x_max) + 1.0).min(x_max * 0.78);
                let style =
                    TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
                Text::new(text.clone(), (x, i as f64 + 0.5), style)
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(100.0, 0.0), (100.0, n as f64)],
                BLACK.stroke_width(2),
            )))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Row `i`'s bar from `x.0` to `x.1`, with room above and below.
fn bar(x: (f64, f64), i: usize, color: RGBAColor) -> Rectangle<(f64, f64)> {
    let y = i as f64;
    Rectangle::new([(x.0, y + 0.12), (x.1, y + 0.88)], color.filled())
}

/// Writes each row's name, right-aligned in the label area beside the row's middle.
///
/// Drawn by hand rather than as axis labels: plotters' segmented axes either leave an
/// empty row on top or cannot hold a single row.
fn row_names<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    names: &[String],
) -> Result<(), ChartError> {
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    chart
        .draw_series(names.iter().enumerate().map(|(i, name)| {
            EmptyElement::at((0.0, i as f64 + 0.5))
                + Text::new(name.clone(), (-8, 0), style.clone())
        }))
        .map_err(err)?;
    Ok(())
}

/// The status mix of the whole run, or of each phase of a chaos run (whose totals
/// cover the baseline only).
fn groups(r: &Results) -> Vec<(String, BTreeMap<String, u64>)> {
    if r.phases.is_empty() {
        return vec![("all".to_owned(), r.totals.statuses.clone())];
    }
    r.phases
        .iter()
        .map(|p| (p.name.to_string(), p.statuses.clone()))
        .collect()
}

/// A status code's colour: green for 2xx, amber 4xx, red 5xx, grey for the rest.
fn status_color(code: &str, shade: usize) -> RGBColor {
    let step = (shade as u8).saturating_mul(28);
    match code.chars().next() {
        Some('2') => RGBColor(44, 160u8.saturating_sub(step), 44 + step),
        Some('3') => RGBColor(31, 119, 180),
        Some('4') => RGBColor(255, 160u8.saturating_sub(step), 14),
        Some('5') => RGBColor(214u8.saturating_sub(step), 39, 40 + step),
        _ => RGBColor(127, 127, 127),
    }
}

/// 100%-stacked horizontal bars, one per group, each segment a status code.
pub fn statuses(r: &Results) -> Result<String, ChartError> {
    let mut groups = groups(r);
    groups.reverse();
    let codes: Vec<String> = {
        let mut c: Vec<String> = groups.iter().flat_map(|(_, m)| m.keys().cloned()).collect();
        c.sort();
        c.dedup();
        c
    };
    let n = groups.len();
    // Tall enough for every bar and for every line of the key.
    let height = (110 + 40 * n as u32).max(40 + 22 * codes.len() as u32);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
        let mut chart = frame(&root, 90)
            .margin_right(LEGEND)
            .build_cartesian_2d(0.0..100.0, 0.0..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("share of transactions, %")
            .y_labels(0)
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        row_names(&mut chart, &names)?;
        for (k, code) in codes.iter().enumerate() {
            let shade = codes[..k]
                .iter()
                .filter(|c| c.chars().next() == code.chars().next())
                .count();
            let color = status_color(code, shade);
            let mut segments = Vec::new();
            for (i, (_, mix)) in groups.iter().enumerate() {
                let total: u64 = mix.values().sum();
                if total == 0 {
                    continue;
                }
                let before: u64 = codes[..k].iter().filter_map(|c| mix.get(c)).sum();
                let this = mix.get(code).copied().unwrap_or(0);
                let (x0, x1) = (
                    100.0 * before as f64 / total as f64,
                    100.0 * (before + this) as f64 / total as f64,
                );
                if this > 0 {
                    segments.push(bar((x0, x1), i, color.to_rgba()));
                }
            }
            chart.draw_series(segments).map_err(err)?;
            // The key sits in a margin of its own, so it never covers a bar.
            let count: u64 = groups.iter().filter_map(|(_, m)| m.get(code)).sum();
            let (x, y) = ((WIDTH - LEGEND + 16) as i32, 20 + 22 * k as i32);
            root.draw(&Rectangle::new(
                [(x, y - 6), (x + 14, y + 6)],
                color.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                format!("{code} ({count})"),
                (x + 22, y),
                TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}
