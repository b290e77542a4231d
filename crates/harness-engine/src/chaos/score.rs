//! Scoring a chaos run: figures per phase, per-second LLM and health series, the time to
//! recover, and each applicable expectation as a scored line beside the budgets, with
//! the alerts' lines when the alert components ran.

use std::collections::BTreeMap;
use std::time::Duration;

use super::alerts::score::judge;
use super::driver::{HealthSample, Observed};
use super::expect::{Bound, Context, Expectation, Metric, PhaseName};
use super::recovery::level;
use super::spec::ChaosSpec;
use crate::record::{ratio, Recorded, Second};
use crate::results::{
    AlertsInfo, BudgetOutcome, ChaosInfo, ChaosSecond, LlmReading, Phase, Status, StreamEnd,
    ALERTS_METHOD,
};
use crate::scoring::budgets::Budget;

/// What scoring a chaos run adds to its results.
pub struct Scored {
    /// Baseline, fault, recovery.
    pub phases: Vec<Phase>,
    /// Timeline, series, time to recover.
    pub info: ChaosInfo,
    /// One line per applicable expectation.
    pub outcomes: Vec<BudgetOutcome>,
}

/// A phase's span in whole seconds from the start of load.
#[derive(Debug, Clone, Copy)]
struct Span {
    name: PhaseName,
    from: usize,
    to: usize,
}

fn spans(spec: &ChaosSpec, warmup: Duration) -> [Span; 3] {
    let p = spec.phases;
    let s = |d: Duration| d.as_secs() as usize;
    [
        Span {
            name: PhaseName::Baseline,
            from: s(warmup).min(s(p.baseline_end())),
            to: s(p.baseline_end()),
        },
        Span {
            name: PhaseName::Fault,
            from: s(p.fault_start()),
            to: s(p.fault_end()),
        },
        Span {
            name: PhaseName::Recovery,
            from: s(p.fault_end()),
            to: s(p.total()),
        },
    ]
}

/// The LLM fake's counter at `t`: the first reading at or after it (the last one if
/// none is that late).
fn calls_at(seen: &Observed, t: f64) -> u64 {
    seen.llm_calls
        .iter()
        .find(|(at, _)| *at >= t)
        .or(seen.llm_calls.last())
        .map_or(0, |(_, c)| *c)
}

fn health_in(seen: &Observed, span: Span) -> Vec<&HealthSample> {
    seen.health
        .iter()
        .filter(|h| h.t_s >= span.from as f64 && h.t_s < span.to as f64)
        .collect()
}

fn phase(spec: &ChaosSpec, span: Span, w: &Second, seen: &Observed) -> Phase {
    let mut health: BTreeMap<String, u64> = BTreeMap::new();
    for h in health_in(seen, span) {
        let word = h.status.clone().unwrap_or_else(|| "no_answer".into());
        *health.entry(word).or_default() += 1;
    }
    Phase {
        name: span.name,
        start_s: span.from as f64,
        end_s: span.to as f64,
        faults: if span.name == PhaseName::Fault {
            spec.faults.iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
        requests: w.counts.requests,
        errors: w.counts.errors,
        error_rate: w.counts.error_rate(),
        throughput_rps: w.counts.requests as f64
            / (span.to.saturating_sub(span.from)).max(1) as f64,
        latency: w.latency.summary(),
        statuses: w.counts.statuses.clone(),
        fallbacks: w.counts.fallback_kinds.clone(),
        fallback_rate: ratio(w.counts.fallbacks, w.counts.requests),
        degraded_rate: ratio(w.counts.degraded, w.counts.requests),
        template_share: ratio(w.counts.templated, w.counts.requests),
        cache_share: ratio(w.counts.cache_sourced, w.counts.requests),
        llm_calls: calls_at(seen, span.to as f64).saturating_sub(calls_at(seen, span.from as f64)),
        health,
        streams: w
            .stream
            .as_ref()
            .map(|s| s.summary(span.to.saturating_sub(span.from).max(1) as f64)),
        goodput: w.counts.goodput(),
    }
}

/// Scores `rec` and `seen` for `spec`.
pub fn score(spec: &ChaosSpec, rec: &Recorded, seen: &Observed, budgets: &[Budget]) -> Scored {
    let spans = spans(spec, rec.warmup);
    let windows: Vec<Second> = spans.iter().map(|s| rec.window(s.from, s.to)).collect();
    let phases: Vec<Phase> = spans
        .iter()
        .zip(&windows)
        .map(|(s, w)| phase(spec, *s, w, seen))
        .collect();

    let [base, fault, recovery] = spans;
    let baseline = level(rec, base.from, base.to);
    let ttr = spec
        .band
        .time_to_recover(rec, baseline, recovery.from, recovery.to)
        .map(|d| d.as_secs_f64());

    // The breaker, as /health shows it during the fault phase.
    let opened = health_in(seen, fault)
        .into_iter()
        .find(|h| h.breaker_open())
        .map(|h| h.t_s);
    let open_span = opened.map_or(Duration::ZERO, |t| {
        Duration::from_secs_f64((fault.to as f64 - t).max(0.0))
    });
    let calls_while_open = calls_at(seen, fault.to as f64)
        .saturating_sub(calls_at(seen, opened.unwrap_or(fault.from as f64)));

    let cx = Context {
        limits: &spec.limits,
        budgets,
        open_span,
    };
    let applicable = applicable(spec);
    let mut outcomes: Vec<BudgetOutcome> = applicable
        .iter()
        .map(|e| {
            let (span, w) = match e.phase {
                PhaseName::Baseline => (base, &windows[0]),
                PhaseName::Fault => (fault, &windows[1]),
                PhaseName::Recovery => (recovery, &windows[2]),
            };
            let measured: Option<f64> = match e.metric {
                Metric::SuccessShare => Some(1.0 - w.counts.error_rate()),
                Metric::TemplateShare => Some(ratio(w.counts.templated, w.counts.requests)),
                Metric::CacheShare => Some(ratio(w.counts.cache_sourced, w.counts.requests)),
                Metric::ErrorRate => Some(w.counts.error_rate()),
                Metric::P95Ms => Some(w.latency.percentile_us(95.0) as f64 / 1000.0),
                Metric::P99Ms => Some(w.latency.percentile_us(99.0) as f64 / 1000.0),
                Metric::LlmCallsWhileOpen => Some(calls_while_open as f64),
                Metric::HealthHolds => Some(health_holds(seen, span, e)),
                Metric::HealthAtEnd => Some(health_at_end(seen, span, e)),
                Metric::TimeToRecoverS => ttr,
                Metric::SilentStopShare => w.stream.as_ref().map(|s| {
                    let silent = [StreamEnd::Truncated, StreamEnd::Stalled]
                        .iter()
                        .filter_map(|e| s.ends.get(e))
                        .sum();
                    ratio(silent, s.streams())
                }),
                Metric::TtftP95Ms => w
                    .stream
                    .as_ref()
                    .filter(|s| s.ttft.count() > 0)
                    .map(|s| s.ttft.percentile_us(95.0) as f64 / 1000.0),
                Metric::Goodput => w.counts.goodput(),
            };
            let mut detail = format!(
                "{} phase, {} transactions",
                span.name.as_str(),
                w.counts.requests
            );
            match e.metric {
                Metric::LlmCallsWhileOpen => {
                    detail = match opened {
                        Some(t) => format!(
                            "breaker seen open from {t:.1} s for {:.1} s",
                            open_span.as_secs_f64()
                        ),
                        None => {
                            "breaker never seen open; every call of the fault phase counts".into()
                        }
                    }
                }
                Metric::HealthHolds | Metric::HealthAtEnd => {
                    detail = format!(
                        "{} phase, {} /health samples, {} = {}",
                        span.name.as_str(),
                        health_in(seen, span).len(),
                        e.component.as_deref().unwrap_or(""),
                        e.state.as_deref().unwrap_or("")
                    )
                }
                Metric::TimeToRecoverS if ttr.is_none() => {
                    detail = format!(
                        "not back in the baseline band by the end of the recovery phase ({} s)",
                        recovery.to - recovery.from
                    )
                }
                _ => {}
            }
            outcome(e, measured, &cx, detail)
        })
        .collect();

    let alerts = spec
        .alerts
        .as_ref()
        .zip(seen.alerts.as_ref())
        .map(|(a, notices)| {
            let judged = judge(spec, notices, &a.rules, &a.expectations, a.every, &cx);
            outcomes.extend(judged.outcomes);
            AlertsInfo {
                windows: a.rules.windows.describe(),
                shortened_by: a.rules.windows.factor(),
                every_s: a.every.as_secs_f64(),
                method: ALERTS_METHOD.into(),
                unscraped: seen.unscraped.clone(),
                notices: notices.clone(),
                scores: judged.scores,
            }
        });

    let seconds = (0..spans[2].to)
        .map(|t| {
            let last = seen
                .health
                .iter()
                .rev()
                .find(|h| h.t_s >= t as f64 && h.t_s < (t + 1) as f64);
            ChaosSecond {
                t: t as u64,
                llm_calls: calls_at(seen, (t + 1) as f64).saturating_sub(calls_at(seen, t as f64)),
                health: last.and_then(|h| h.status.clone()),
                breaker: last.and_then(|h| h.breaker.clone()),
            }
        })
        .collect();
    let b = spec.band;
    Scored {
        phases,
        info: ChaosInfo {
            faults: spec.faults.iter().map(ToString::to_string).collect(),
            events: seen.events.clone(),
            time_to_recover_s: ttr,
            recovery_rule: format!(
                "from the removal of the faults until {} consecutive rolling {} s windows have \
                 p95 ≤ baseline p95 × {} + {} ms, error rate ≤ baseline + {:.0}% and fallback \
                 share ≤ baseline + {:.0}% (baseline: p95 {:.1} ms, errors {:.2}%, fallbacks {:.2}%)",
                b.consecutive,
                b.window_s,
                b.p95_factor,
                b.p95_slack.as_millis(),
                b.error_margin * 100.0,
                b.fallback_margin * 100.0,
                baseline.p95_us as f64 / 1000.0,
                baseline.error_rate * 100.0,
                baseline.fallback_rate * 100.0,
            ) + &baseline.goodput.map_or(String::new(), |g| {
                format!(
                    "; and goodput ≥ baseline − {:.0}% (baseline goodput {:.1}%)",
                    b.goodput_margin * 100.0,
                    g * 100.0
                )
            }),
            seconds,
            health: seen.health.clone(),
            llm_readings: seen
                .llm_calls
                .iter()
                .map(|&(t_s, calls)| LlmReading { t_s, calls })
                .collect(),
            llm_streams: seen.llm_streams,
            alerts,
        },
        outcomes,
    }
}

/// The expectations that apply to the run's faults, each once.
pub fn applicable(spec: &ChaosSpec) -> Vec<&Expectation> {
    let mut out: Vec<&Expectation> = Vec::new();
    for e in &spec.expectations {
        let applies = spec.faults.iter().any(|f| {
            e.applies_to(f.kind()) && (!e.failing_only || f.is_failing(&spec.limits.deadlines()))
        });
        if applies && !out.iter().any(|o| o.name == e.name) {
            out.push(e);
        }
    }
    out
}

fn health_holds(seen: &Observed, span: Span, e: &Expectation) -> f64 {
    let (Some(c), Some(s)) = (e.component.as_deref(), e.state.as_deref()) else {
        return 0.0;
    };
    let samples = health_in(seen, span);
    let Some(first) = samples.iter().position(|h| h.state_of(c) == Some(s)) else {
        return 0.0;
    };
    let rest = &samples[first..];
    ratio(
        rest.iter().filter(|h| h.state_of(c) == Some(s)).count() as u64,
        rest.len() as u64,
    )
}

fn health_at_end(seen: &Observed, span: Span, e: &Expectation) -> f64 {
    let (Some(c), Some(s)) = (e.component.as_deref(), e.state.as_deref()) else {
        return 0.0;
    };
    let last = health_in(seen, span).into_iter().last();
    f64::from(u8::from(last.is_some_and(|h| h.state_of(c) == Some(s))))
}

fn outcome(
    e: &Expectation,
    measured: Option<f64>,
    cx: &Context<'_>,
    detail: String,
) -> BudgetOutcome {
    let unit = e.metric.unit();
    let (bound, at_least): (&Bound, bool) = match (&e.at_least, &e.at_most) {
        (Some(b), _) => (b, true),
        (None, Some(b)) => (b, false),
        (None, None) => (&Bound::Number(0.0), false),
    };
    let (limit, detail) = match bound.resolve(unit, cx) {
        Ok(l) => (l, detail),
        Err(m) => (0.0, format!("{detail}; bound: {m}")),
    };
    let passed = measured.is_some_and(|m| if at_least { m >= limit } else { m <= limit });
    let margin = measured.filter(|_| limit.abs() > f64::EPSILON).map(|m| {
        if at_least {
            (m - limit) / limit
        } else {
            (limit - m) / limit
        }
    });
    BudgetOutcome {
        name: format!("chaos.{}", e.name),
        seed: e.seed.clone(),
        unit,
        measured,
        limit,
        margin,
        status: if passed { Status::Pass } else { Status::Fail },
        detail: format!(
            "{} the limit; {detail}",
            if at_least { "at least" } else { "at most" }
        ),
    }
}

#[cfg(test)]
mod tests;
