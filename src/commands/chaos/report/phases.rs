//! A chaos run's phases for the terminal: the fault timeline, one row of figures per
//! phase, and the time to recover.

use std::fmt::Write;

use crate::report::export::value;
use crate::results::{Results, Unit};

fn ms(us: u64) -> String {
    value(Unit::Ms, us as f64 / 1000.0)
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The phases as text.
pub fn render(r: &Results) -> String {
    let mut out = String::new();
    if let Some(c) = &r.chaos {
        let _ = writeln!(out, "faults: {}", c.faults.join(", "));
        for e in &c.events {
            let _ = writeln!(
                out,
                "  {:>6.1} s  {:<6} {}{}",
                e.t_s,
                e.action,
                e.fault,
                e.error
                    .as_deref()
                    .map(|m| format!(" (failed: {m})"))
                    .unwrap_or_default()
            );
        }
    }
    let header = [
        "phase",
        "seconds",
        "tx",
        "tx/s",
        "p50",
        "p95",
        "p99",
        "errors",
        "fallback",
        "template",
        "cache",
        "llm calls",
        "health",
    ];
    let rows: Vec<Vec<String>> = r
        .phases
        .iter()
        .map(|p| {
            let health = p
                .health
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                p.name.to_string(),
                format!("{:.0}–{:.0}", p.start_s, p.end_s),
                p.requests.to_string(),
                format!("{:.1}", p.throughput_rps),
                ms(p.latency.p50_us),
                ms(p.latency.p95_us),
                ms(p.latency.p99_us),
                pct(p.error_rate),
                pct(p.fallback_rate),
                pct(p.template_share),
                pct(p.cache_share),
                p.llm_calls.to_string(),
                health,
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        let mut l = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            // Names and health read left to right; figures line up on the right.
            if i == 0 || i + 1 == cells.len() {
                let _ = write!(l, " {c:<w$}");
            } else {
                let _ = write!(l, " {c:>w$}");
            }
        }
        let _ = writeln!(out, "{}", l.trim_end());
    };
    line(&mut out, &header.map(String::from));
    for row in &rows {
        line(&mut out, row);
    }
    for p in &r.phases {
        let stream = p.streams.as_ref().map(|s| {
            let ends: Vec<String> = s
                .ends
                .iter()
                .map(|(e, n)| format!("{n} {}", e.as_str()))
                .collect();
            format!(
                "TTFT p50/p95 {}/{}, ITL p99 {}, streams {}",
                ms(s.ttft.p50_us),
                ms(s.ttft.p95_us),
                ms(s.itl.p99_us),
                ends.join(", ")
            )
        });
        let goodput = p.goodput.map(|g| format!("goodput {}", pct(g)));
        let parts: Vec<String> = stream.into_iter().chain(goodput).collect();
        if !parts.is_empty() {
            let _ = writeln!(out, "  {}: {}", p.name, parts.join("; "));
        }
    }
    if let Some(s) = r.chaos.as_ref().and_then(|c| c.llm_streams) {
        let _ = writeln!(
            out,
            "LLM streams: {} begun, {} cancelled by their caller before their end",
            s.begun, s.cancelled
        );
    }
    if let Some(c) = &r.chaos {
        match c.time_to_recover_s {
            Some(t) => {
                let _ = writeln!(out, "time to recover: {t:.0} s ({})", c.recovery_rule);
            }
            None => {
                let _ = writeln!(
                    out,
                    "time to recover: not recovered within the recovery phase ({})",
                    c.recovery_rule
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_snapshot() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/chaos.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut r: Results = serde_json::from_str(&text).expect("fixture parses");
        insta::assert_snapshot!("recovered", render(&r));
        if let Some(c) = r.chaos.as_mut() {
            c.time_to_recover_s = None;
            c.events[1].error = Some("connection refused".into());
        }
        insta::assert_snapshot!("not_recovered", render(&r));
    }
}
