//! The alert timeline of a chaos run: each alert a row, each firing a bar from its
//! firing notification to its resolved one (to the end of the run when it never
//! resolved), over the fault and recovery phases shaded as in the other charts.

use plotters::prelude::*;

use super::time::{shade, svg, x_range};
use super::{bands, err, frame, ChartError, FONT};
use crate::results::{AlertRole, AlertsInfo, Results};

/// Bar colours: an expected alert green, a tolerated one amber, a false alarm red.
fn colour(role: AlertRole) -> RGBColor {
    match role {
        AlertRole::Expected => RGBColor(44, 160, 44),
        AlertRole::Tolerated => RGBColor(255, 127, 14),
        AlertRole::Unexpected => RGBColor(214, 39, 40),
    }
}

/// The timeline, one row per alert that was expected or fired.
pub fn timeline(r: &Results, alerts: &AlertsInfo) -> Result<String, ChartError> {
    let x = x_range(r);
    let rows = alerts.scores.len().max(1) as f64;
    svg(|root| {
        let mut chart = frame(&root, 220)
            .build_cartesian_2d(x.clone(), 0.0..rows)
            .map_err(err)?;
        let names: Vec<String> = alerts.scores.iter().map(|s| s.alert.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("seconds from the start of load")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_labels(names.len().max(1))
            .y_label_formatter(&|y| {
                let i = y.floor() as usize;
                names.get(i).cloned().unwrap_or_default()
            })
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        shade(&mut chart, &bands(r), (0.0, rows))?;
        for (i, s) in alerts.scores.iter().enumerate() {
            let c = colour(s.role);
            let row = i as f64;
            chart
                .draw_series(s.spans.iter().map(|span| {
                    let to = span.resolved_s.unwrap_or(x.end);
                    Rectangle::new(
                        [(span.fired_s.max(x.start), row + 0.25), (to, row + 0.75)],
                        c.filled(),
                    )
                }))
                .map_err(err)?;
        }
        Ok(())
    })
}
