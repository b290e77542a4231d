//! Whether the subject's own timings are true (HDR-4). PERF-1's operation budgets are
//! judged on `Server-Timing`, which the subject writes itself; here each figure is held
//! between a ceiling the harness measured and floors it put in the way: the LLM fake's
//! answer time and a latency on the Postgres link.

use std::time::Instant;

use super::chat::sources;
use crate::certify::{ensure_eq, CaseResult, Ctx, Or};
use crate::environment::proxy;
use crate::llm::LatencyProfile;

/// The clause this case judges.
const CLAUSE: &str = "HDR-4";
/// How far a figure may pass its bound before it is charged. The subject's timers and
/// the harness's run on one machine, where clocks agree to far less than this.
const TOLERANCE_MS: f64 = 1.0;
/// The latency put on the Postgres link.
const DB_MS: u32 = 30;
/// How long the LLM fake holds back each answer.
const LLM_MS: f64 = 40.0;
/// Requests, each judged against every bound that applies to it.
const REQUESTS: usize = 20;
/// How the figure of a bound's largest under-report is named, after the bound.
pub const UNDER_REPORT: &str = "largest under-report";

/// The seed's customers, asked about in turn.
const CUSTOMERS: [&str; 3] = ["Delta Industries", "Acme Corporation", "Globex Ltd"];

/// One bound on one operation, and how the subject's figures stood against it.
struct Bound {
    /// The operation and what bounds it, for the evidence.
    what: &'static str,
    /// What a figure past this bound is: an under-report for a floor, an over-report
    /// for a ceiling.
    past_is: &'static str,
    /// Figures checked.
    checked: usize,
    /// Figures past the bound by more than the tolerance.
    past: usize,
    /// The most any figure passed its bound by, in ms (negative: all within).
    worst_ms: f64,
    /// The first figure past its bound, described.
    first: Option<String>,
}

impl Bound {
    fn new(what: &'static str, past_is: &'static str) -> Self {
        Bound {
            what,
            past_is,
            checked: 0,
            past: 0,
            worst_ms: f64::NEG_INFINITY,
            first: None,
        }
    }

    /// Records a figure `by` ms past its bound (negative: inside it).
    fn judge(&mut self, by: f64, detail: String) {
        self.checked += 1;
        self.worst_ms = self.worst_ms.max(by);
        if by > TOLERANCE_MS {
            self.past += 1;
            self.first.get_or_insert(detail);
        }
    }
}

/// The `dur` of `op` in a `Server-Timing` header, in ms.
fn duration(timing: &str, op: &str) -> Option<f64> {
    timing.split(',').find_map(|e| {
        let (name, params) = e.trim().split_once(';')?;
        (name == op).then_some(())?;
        params
            .split(';')
            .find_map(|p| p.trim().strip_prefix("dur="))?
            .parse()
            .ok()
    })
}

pub async fn server_timing_is_bounded_by_what_the_harness_measured(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_profile(LatencyProfile {
        base_ms: LLM_MS,
        spread: 0.0,
        per_output_token_ms: 0.0,
        output_tokens: 32,
    })
    .or_error("the LLM fake's profile")?;
    app.slow(proxy::POSTGRES, DB_MS).await?;
    let mut ceiling = Bound::new(
        "request_handler.handle_request ≤ the time the client measured",
        "largest over-report",
    );
    let mut generate = Bound::new(
        "response_generator.generate ≥ the LLM fake's answer time",
        UNDER_REPORT,
    );
    let mut resolve = Bound::new(
        "entity_resolver.resolve ≥ the Postgres link's latency",
        UNDER_REPORT,
    );
    let mut analyze = Bound::new(
        "pattern_analyzer.analyze_entity ≥ the Postgres link's latency",
        UNDER_REPORT,
    );
    for i in 0..REQUESTS {
        let query = format!("What is the status of {}?", CUSTOMERS[i % CUSTOMERS.len()]);
        // Requests go one at a time, so the LLM calls answered meanwhile are this one's.
        let before = llm.answered().len();
        let started = Instant::now();
        let (s, body, headers) = app.chat(&query).await;
        let measured = started.elapsed().as_secs_f64() * 1e3;
        let calls = llm.answered();
        ensure_eq!(CLAUSE, s, 200, "request {i}: {body}");
        let timing = headers
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let figure = |op| duration(&timing, op);
        let at = |v: f64, bound: f64| {
            format!("request {i}: reported {v:.3} ms against {bound:.3} ms ({timing})")
        };
        if let Some(v) = figure("request_handler.handle_request") {
            ceiling.judge(v - measured, at(v, measured));
        }
        let held: f64 = calls
            .iter()
            .skip(before)
            .map(|c| c.took.as_secs_f64() * 1e3)
            .sum();
        if let (Some(v), true) = (figure("response_generator.generate"), calls.len() > before) {
            generate.judge(held - v, at(v, held));
        }
        let floor = f64::from(DB_MS);
        if let Some(v) = figure("entity_resolver.resolve") {
            // Entities from a cache need no round trip. `cache` alone may mean only the
            // patterns came from one (CHAT-13); entities from a cache are a phase that
            // fell back, so such an answer is also degraded (CHAT-15).
            let cached = sources(&body).contains(&"cache") && body["degraded"] == true;
            if !cached {
                resolve.judge(floor - v, at(v, floor));
            }
        }
        if let Some(v) = figure("pattern_analyzer.analyze_entity") {
            analyze.judge(floor - v, at(v, floor));
        }
    }
    app.clear(proxy::POSTGRES).await?;
    for b in [&ceiling, &generate, &resolve, &analyze] {
        app.measure(
            &format!("{}: checked", b.what),
            b.checked as f64,
            "figures",
            None,
        );
        if b.checked > 0 {
            app.measure(
                &format!("{}: {}", b.what, b.past_is),
                b.worst_ms.max(0.0),
                "ms",
                Some(&format!("≤ {TOLERANCE_MS} ms")),
            );
        }
        if let Some(first) = &b.first {
            app.broke(
                CLAUSE,
                format!(
                    "{}: {} of {} figures past the bound by more than {TOLERANCE_MS} ms, the most by {:.3} ms; first, {first}",
                    b.what, b.past, b.checked, b.worst_ms
                ),
            );
        }
    }
    // A bound that could not be applied often enough has judged too little: the
    // ceiling and the first two floors apply to every answer; the pattern floor to
    // each customer's first question on this fresh instance at least, whose patterns
    // nobody has computed yet (HDR-3).
    for (b, least) in [
        (&ceiling, REQUESTS),
        (&generate, REQUESTS),
        (&resolve, REQUESTS),
        (&analyze, CUSTOMERS.len()),
    ] {
        if b.checked < least {
            app.broke(
                CLAUSE,
                format!(
                    "{}: only {} answers could be checked, of the {least} it needs (an operation missing from Server-Timing, or no LLM call)",
                    b.what, b.checked
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_operations_duration_and_nothing_else() {
        let t =
            "entity_resolver.resolve;dur=31.250, request_handler.handle_request;desc=\"x\";dur=80";
        assert_eq!(duration(t, "entity_resolver.resolve"), Some(31.25));
        assert_eq!(duration(t, "request_handler.handle_request"), Some(80.0));
        assert_eq!(duration(t, "entity_resolver"), None);
        assert_eq!(duration("", "entity_resolver.resolve"), None);
    }

    #[test]
    fn a_figure_past_its_bound_by_more_than_the_tolerance_is_counted() {
        let mut b = Bound::new("x", UNDER_REPORT);
        b.judge(-5.0, "inside".into());
        b.judge(0.9, "within the tolerance".into());
        b.judge(22.5, "a quarter of its time".into());
        b.judge(3.0, "later".into());
        assert_eq!((b.checked, b.past), (4, 2));
        assert_eq!(b.worst_ms, 22.5);
        assert_eq!(b.first.as_deref(), Some("a quarter of its time"));
    }
}
