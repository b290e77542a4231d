//! A chaos run's alerts for the terminal: each alert expected or seen, with its role,
//! when it fired and resolved, and its times to detect and clear.

use std::fmt::Write;

use crate::report::columns::{columns, Align};
use crate::results::{AlertRole, AlertsInfo};

/// The alerts as text.
pub fn render(a: &AlertsInfo) -> String {
    let secs =
        |v: Option<f64>, none: &str| v.map_or_else(|| none.to_owned(), |t| format!("{t:.1} s"));
    let header = ["alert", "role", "fired (s)", "detect", "clear"];
    let rows = a.scores.iter().map(|s| {
        let missed = if s.role == AlertRole::Expected {
            "missed"
        } else {
            "-"
        };
        let uncleared = if s.spans.is_empty() {
            "-"
        } else {
            "not cleared"
        };
        vec![
            s.alert.clone(),
            s.role.word().to_owned(),
            s.firings(),
            secs(s.detect_s, missed),
            secs(s.clear_s, uncleared),
        ]
    });
    let table: Vec<Vec<String>> = std::iter::once(header.map(String::from).to_vec())
        .chain(rows)
        .collect();
    use Align::{Left, Right};
    let mut out = format!("alerts ({}, every {:.0} s):\n", a.windows, a.every_s);
    out.push_str(&columns(&table, &[Left, Left, Left, Right, Right]));
    if let Some(why) = &a.unscraped {
        let _ = writeln!(out, "  {why}");
    }
    if a.scores.is_empty() {
        let _ = writeln!(out, "  no alert was expected and none fired");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{AlertScore, AlertSpan};

    #[test]
    fn alerts_snapshot() {
        let score = |alert: &str, role: AlertRole, spans: Vec<AlertSpan>, d, c| AlertScore {
            alert: alert.into(),
            seed: "003".into(),
            role,
            spans,
            detect_s: d,
            clear_s: c,
        };
        let span = |f: f64, r: Option<f64>| AlertSpan {
            fired_s: f,
            resolved_s: r,
        };
        let a = AlertsInfo {
            windows: "every window (for: and [range]) divided by 60".into(),
            shortened_by: 60,
            every_s: 1.0,
            method: String::new(),
            unscraped: None,
            notices: Vec::new(),
            scores: vec![
                score(
                    "DatabaseDown",
                    AlertRole::Expected,
                    vec![span(11.8, Some(23.1))],
                    Some(3.8),
                    Some(3.1),
                ),
                score("RedisDown", AlertRole::Expected, Vec::new(), None, None),
                score(
                    "HighErrorRate",
                    AlertRole::Unexpected,
                    vec![span(4.0, Some(6.0)), span(14.0, None)],
                    Some(6.0),
                    None,
                ),
            ],
        };
        insta::assert_snapshot!(render(&a));
    }
}
