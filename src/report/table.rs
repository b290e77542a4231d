//! The terminal verdict: every budget with its measured value, limit, margin and
//! PASS/FAIL, then totals and the outcome.

use std::fmt::Write;

use super::export::value;
use crate::results::{BudgetOutcome, Results, Status};

fn row(b: &BudgetOutcome) -> [String; 5] {
    let status = match b.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::NotApplicable => "n/a",
    };
    [
        b.name.clone(),
        b.measured.map_or_else(|| "-".into(), |m| value(b.unit, m)),
        value(b.unit, b.limit),
        b.margin
            .map_or_else(|| "-".into(), |m| format!("{:+.0}%", m * 100.0)),
        status.into(),
    ]
}

/// The verdict table as text.
pub fn render(r: &Results) -> String {
    let header = ["budget", "measured", "limit", "margin", "result"];
    let rows: Vec<[String; 5]> = r.budgets.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} / {} — {} users, {:.0} s, {} transactions, {:.1}/s, errors {:.2}%",
        r.scenario.name,
        r.scenario.profile,
        r.scenario.users,
        r.duration_s,
        r.totals.requests,
        r.totals.throughput_rps,
        r.totals.error_rate * 100.0
    );
    let line = |out: &mut String, cells: &[String]| {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:<w4$}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
    };
    line(&mut out, &header.map(String::from));
    for row in &rows {
        line(&mut out, row);
    }
    for row in rows.iter().filter(|r| r[4] == "n/a") {
        let detail = r
            .budgets
            .iter()
            .find(|b| b.name == row[0])
            .map_or("", |b| b.detail.as_str());
        let _ = writeln!(out, "  n/a {}: {detail}", row[0]);
    }
    for b in r.budgets.iter().filter(|b| b.status == Status::Fail) {
        let _ = writeln!(out, "  FAIL {}: {} [seed {}]", b.name, b.detail, b.seed);
    }
    let _ = writeln!(out, "coordinated omission: {}", r.coordinated_omission);
    if let Some(l) = load_summary(r) {
        let _ = writeln!(out, "load: {l}");
    }
    for l in stream_summary(r) {
        let _ = writeln!(out, "{l}");
    }
    if r.verdict.passed {
        let _ = writeln!(out, "PASS: every applicable budget met");
    } else {
        let _ = writeln!(
            out,
            "FAIL: {} budget(s) or expectation(s) not met: {}",
            r.verdict.failed.len(),
            r.verdict.failed.join(", ")
        );
    }
    out
}

/// The load model and every request it could not make as planned, on one line; `None`
/// for results written before the open model existed.
pub fn load_summary(r: &Results) -> Option<String> {
    let l = r.load.as_ref()?;
    let line = match l.model {
        crate::results::LoadModel::Closed => format!(
            "closed model; {} samples added for sends a stall held back (user cadence {}); \
             {} cut at the deadline",
            l.backfilled,
            l.cadence_ms
                .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.0} ms")),
            l.cut
        ),
        crate::results::LoadModel::Open => format!(
            "open model; {} sent late (latest {:.1} ms), {} dropped at the in-flight cap, \
             {} cut at the deadline",
            l.late, l.max_late_ms, l.dropped, l.cut
        ),
    };
    // Only a run with clients that abandon says so: the line of every other run stays.
    Some(match l.abandon_rule {
        Some(_) => format!(
            "{line}; {} abandoned by their clients (no latency, no error)",
            l.abandoned
        ),
        None => line,
    })
}

/// The streams and goodput of a run, a line each (none when it has neither): what the
/// terminal and the Markdown summary print.
pub fn stream_summary(r: &Results) -> Vec<String> {
    let ms = |us: u64| format!("{:.1}", us as f64 / 1000.0);
    let pcts = |h: &crate::results::HistogramSummary| {
        format!("{}/{}/{} ms", ms(h.p50_us), ms(h.p95_us), ms(h.p99_us))
    };
    let mut out = Vec::new();
    if let Some(s) = &r.streams {
        let o = &s.overall;
        let ends: Vec<String> = crate::results::StreamEnd::ALL
            .iter()
            .filter_map(|e| o.ends.get(e).map(|n| format!("{n} {}", e.as_str())))
            .collect();
        out.push(format!(
            "streams: {} ({}); TTFT p50/p95/p99 {}, ITL {}, TPOT {}; {} tokens, {:.1} tokens/s \
             (TTFT from the intended send time, ITL every gap after the first token: \
             results.json streams.method)",
            o.streams,
            ends.join(", "),
            pcts(&o.ttft),
            pcts(&o.itl),
            pcts(&o.tpot),
            o.tokens,
            o.output_tokens_per_s
        ));
    }
    if let Some(g) = &r.goodput {
        out.push(format!(
            "goodput: {:.1}% ({} of {}) met {}",
            g.share * 100.0,
            g.met,
            g.requests,
            g.slo
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_whose_clients_abandon_says_how_many() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/smoke.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut r: Results = serde_json::from_str(&text).expect("fixture parses");
        r.load = Some(crate::results::LoadInfo::default());
        let plain = load_summary(&r).expect("load line");
        assert!(!plain.contains("abandoned"), "{plain}");
        if let Some(l) = r.load.as_mut() {
            l.abandoned = 44;
            l.abandon_rule = Some("rule".into());
        }
        let line = load_summary(&r).expect("load line");
        assert!(
            line.ends_with("; 44 abandoned by their clients (no latency, no error)"),
            "{line}"
        );
    }

    #[test]
    fn a_run_with_streams_and_an_slo_prints_them() {
        use crate::record::{Slo, StreamSample, StreamStats};
        use crate::results::StreamEnd;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/smoke.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut r: Results = serde_json::from_str(&text).expect("fixture parses");
        assert!(stream_summary(&r).is_empty());
        let mut rec = crate::record::Recorded::default();
        let ms = std::time::Duration::from_millis;
        for (i, end) in [StreamEnd::Done, StreamEnd::Done, StreamEnd::Stalled]
            .into_iter()
            .enumerate()
        {
            let s = StreamSample {
                ttft: Some(ms(100 * (i as u64 + 1))),
                gaps: vec![ms(20), ms(30)],
                tokens: 3,
                end,
                e2e: ms(400),
            };
            rec.stream.add(&s);
            rec.streams
                .entry("chat".into())
                .or_insert_with(StreamStats::default)
                .add(&s);
        }
        rec.slo = Some("ttft=250ms".parse::<Slo>().expect("slo"));
        rec.totals.requests = 3;
        rec.totals.slo_met = Some(2);
        r.streams = rec.stream_results(10.0);
        r.goodput = rec.goodput();
        insta::assert_snapshot!("streams", stream_summary(&r).join("\n"));
    }

    #[test]
    fn verdict_table_snapshot() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/smoke.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut r: Results = serde_json::from_str(&text).expect("fixture parses");
        insta::assert_snapshot!("pass", render(&r));
        r.budgets[20].status = Status::Fail;
        r.budgets[20].margin = Some(-0.25);
        r.verdict.passed = false;
        r.verdict.failed = vec![r.budgets[20].name.clone()];
        insta::assert_snapshot!("fail", render(&r));
    }
}
