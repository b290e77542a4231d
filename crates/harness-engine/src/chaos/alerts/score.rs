//! Scoring a chaos run's alerts: from the notifications the receiver got, each alert's
//! firings as spans; then, against the alerts the faults must raise, the time to detect,
//! the alerts missed, the false alarms and the time to clear, each a scored line.

use std::collections::BTreeMap;

use super::expect::{seconds, AlertExpectation};
use super::rules::RuleSet;
use crate::chaos::expect::Context;
use crate::chaos::spec::ChaosSpec;
use crate::exit::ALERT_PREFIX;
use crate::results::{
    AlertNotice, AlertRole, AlertScore, AlertSpan, AlertStatus, BudgetOutcome, Status, Unit,
};

/// Each alert's firings, from its notices in order of arrival: a firing opens a span, a
/// resolved notice closes the open one; a repeated firing notice of an open span is the
/// same firing.
pub fn spans(notices: &[AlertNotice]) -> BTreeMap<String, Vec<AlertSpan>> {
    let mut out: BTreeMap<String, Vec<AlertSpan>> = BTreeMap::new();
    for n in notices {
        let list = out.entry(n.alert.clone()).or_default();
        let open = list.last_mut().filter(|s| s.resolved_s.is_none());
        match (n.status, open) {
            (AlertStatus::Firing, None) => list.push(AlertSpan {
                fired_s: n.t_s,
                resolved_s: None,
            }),
            (AlertStatus::Firing, Some(_)) => {}
            (AlertStatus::Resolved, Some(s)) => s.resolved_s = Some(n.t_s),
            // A resolution of a firing sent before the receiver listened.
            (AlertStatus::Resolved, None) => {}
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// What scoring the alerts adds to a chaos run.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// One entry per alert that was expected or fired.
    pub scores: Vec<AlertScore>,
    /// One scored line per expected alert (detect, clear) and one for false alarms.
    pub outcomes: Vec<BudgetOutcome>,
}

/// Judges `notices` against the expectations that apply to `spec`'s faults.
pub fn judge(
    spec: &ChaosSpec,
    notices: &[AlertNotice],
    rules: &RuleSet,
    expectations: &[AlertExpectation],
    every: std::time::Duration,
    cx: &Context<'_>,
) -> Judged {
    let fault_start = spec.phases.fault_start().as_secs_f64();
    let fault_end = spec.phases.fault_end().as_secs_f64();
    let total = spec.phases.total().as_secs_f64();
    let deadlines = spec.limits.deadlines();
    let applying: Vec<&AlertExpectation> = expectations
        .iter()
        .filter(|e| {
            spec.faults
                .iter()
                .any(|f| e.applies_to(f, f.is_failing(&deadlines)))
        })
        .collect();
    let role = |alert: &str| {
        if applying.iter().any(|e| e.fire.iter().any(|a| a == alert)) {
            AlertRole::Expected
        } else if applying
            .iter()
            .any(|e| e.may_fire.iter().any(|a| a == alert))
        {
            AlertRole::Tolerated
        } else {
            AlertRole::Unexpected
        }
    };
    let by_alert = spans(notices);
    let mut names: Vec<String> = by_alert.keys().cloned().collect();
    for e in &applying {
        names.extend(e.fire.iter().cloned());
    }
    names.sort();
    names.dedup();

    let mut scores = Vec::new();
    let mut outcomes = Vec::new();
    let mut false_alarms = Vec::new();
    for name in names {
        let fired = by_alert.get(&name).cloned().unwrap_or_default();
        let role = role(&name);
        let rule = rules.rule(&name);
        let seed = rule.map(|r| r.seed.clone()).unwrap_or_default();
        // Which expectation bounds it: the first applying one that names it in the list
        // its role comes from (a fault may name one alert in one entry's `fire` and in
        // another's `may_fire`: llm-fail 1.0 and 0.3 share a kind).
        let bounds = applying.iter().find(|e| match role {
            AlertRole::Expected => e.fire.contains(&name),
            _ => e.may_fire.contains(&name),
        });
        let limit = |expr: &str| rule.and_then(|r| seconds(expr, r, every, cx).ok());
        let in_fault = fired
            .iter()
            .find(|s| s.fired_s >= fault_start && s.fired_s < total);
        let detect_s = in_fault.map(|s| s.fired_s - fault_start);
        let last = fired.last();
        let cleared = last.and_then(|s| s.resolved_s);
        let clear_s = cleared.map(|r| (r - fault_end).max(0.0));
        for s in &fired {
            let baseline = s.fired_s < fault_start;
            if baseline || role == AlertRole::Unexpected {
                false_alarms.push(format!(
                    "{name} at {:.1} s ({})",
                    s.fired_s,
                    if baseline {
                        "baseline"
                    } else {
                        "not raised by this fault"
                    }
                ));
            }
        }
        if role == AlertRole::Expected {
            let (limit, expr) = bounds.map_or((None, ""), |e| {
                (limit(&e.detect_within), e.detect_within.as_str())
            });
            outcomes.push(line(
                format!("{ALERT_PREFIX}{name}.detect_s"),
                &seed,
                detect_s,
                limit,
                match detect_s {
                    Some(_) => format!(
                        "fault in at {fault_start:.0} s to the first notification; limit {expr}"
                    ),
                    None => "never fired while the fault was in or after: missed".into(),
                },
            ));
        }
        if role != AlertRole::Unexpected && in_fault.is_some() {
            let (limit, expr) = bounds.map_or((None, ""), |e| {
                (limit(&e.clear_within), e.clear_within.as_str())
            });
            outcomes.push(line(
                format!("{ALERT_PREFIX}{name}.clear_s"),
                &seed,
                clear_s,
                limit,
                match clear_s {
                    Some(_) => format!(
                        "fault out at {fault_end:.0} s to the resolved notification; limit {expr}"
                    ),
                    None => "still firing at the end of the run".into(),
                },
            ));
        }
        scores.push(AlertScore {
            alert: name,
            seed,
            role,
            spans: fired,
            detect_s,
            clear_s,
        });
    }
    let n = false_alarms.len() as f64;
    outcomes.push(BudgetOutcome {
        name: format!("{ALERT_PREFIX}false_alarms"),
        seed: "002 §4.3, 003 alerts: a page means a fault; the baseline and other faults' alerts stay quiet".into(),
        unit: Unit::Count,
        measured: Some(n),
        limit: 0.0,
        margin: None,
        status: if n == 0.0 { Status::Pass } else { Status::Fail },
        detail: if false_alarms.is_empty() {
            "none".into()
        } else {
            false_alarms.join("; ")
        },
    });
    Judged { scores, outcomes }
}

fn line(
    name: String,
    seed: &str,
    measured: Option<f64>,
    limit: Option<f64>,
    detail: String,
) -> BudgetOutcome {
    let status = match (measured, limit) {
        (Some(m), Some(l)) if m <= l => Status::Pass,
        _ => Status::Fail,
    };
    let limit = limit.unwrap_or(0.0);
    BudgetOutcome {
        name,
        seed: seed.to_owned(),
        unit: Unit::S,
        measured,
        limit,
        margin: measured
            .filter(|_| limit > 0.0)
            .map(|m| (limit - m) / limit),
        status,
        detail,
    }
}
