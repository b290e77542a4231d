//! How a load case is judged from the results of its run: which outcomes of the run
//! bear on which clause, the figures that go into the evidence, and the failures each
//! clause is charged with. Pure functions; the session runs the load.

use super::cases::{LoadCase, BUDGETS_CASE, TIMING_CASE, UNDER_REPORT};
use super::run::{Charge, Ended, Ran};
use crate::results::certificate::{CaseResult, Measure, Verdict};
use crate::results::exit::ALERT_PREFIX;
use crate::results::{BudgetOutcome, Capacity, Results, Status};

/// The clause the budgets at the named profile judge.
pub const BUDGETS: &str = "PERF-1";
/// The clause a fault's degradation rules judge.
pub const DEGRADES: &str = "RES-1";
/// The clause a fault's time to recover judges.
pub const RECOVERS: &str = "RES-2";
/// The clause a fault's pages judge: the alert lines of its run.
pub const PAGES: &str = "RES-4";
/// The clause the abandonment run judges.
pub const ABANDONED: &str = "RES-3";
/// The clause the capacity search informs.
pub const CAPACITY: &str = "PERF-2";

/// The clause an outcome of the run bears on, if any. A chaos run also scores the
/// budgets over its baseline phase; those say how the service ran before the fault,
/// which the budgets case judges at the named profile, so they bear on no clause here.
pub fn clause_of(case: &LoadCase, outcome: &BudgetOutcome) -> Option<&'static str> {
    let chaos = outcome.name.starts_with("chaos.");
    let pages = outcome.name.starts_with(ALERT_PREFIX);
    match case {
        LoadCase::Budgets => Some(BUDGETS),
        LoadCase::Fault(_) if pages => Some(PAGES),
        LoadCase::Fault(_) if chaos && recovery(&outcome.name) => Some(RECOVERS),
        LoadCase::Fault(_) if chaos => Some(DEGRADES),
        LoadCase::Abandon if chaos => Some(ABANDONED),
        // A capacity search's probes are judged by the search itself; see `capacity`.
        _ => None,
    }
}

/// Whether a chaos outcome is about coming back (the recovery phase, or the time to
/// recover) rather than about how the service degraded.
fn recovery(name: &str) -> bool {
    name.starts_with("chaos.recovery.") || name.ends_with(".time_to_recover")
}

/// The case's verdict material from its run's results. `duration_s` is the run's length,
/// start-up included.
pub fn judge(case: &LoadCase, results: &Results, results_file: &str, duration_s: f64) -> Ran {
    let judged: Vec<(&BudgetOutcome, &'static str)> = results
        .budgets
        .iter()
        .filter_map(|o| clause_of(case, o).map(|c| (o, c)))
        .collect();
    let mut measures: Vec<Measure> = judged
        .iter()
        .filter(|(o, _)| o.status != Status::NotApplicable)
        .map(|(o, clause)| Measure {
            name: format!("{} ({clause}{})", o.name, source(o, results)),
            value: o.measured.unwrap_or(f64::NAN),
            unit: o.unit.as_str().to_owned(),
            limit: Some(format!("{} {}", sign(o), o.limit)),
        })
        .collect();
    if let Some(chaos) = &results.chaos {
        measures.push(Measure {
            name: "time to recover".into(),
            value: chaos.time_to_recover_s.unwrap_or(f64::NAN),
            unit: "s".into(),
            limit: None,
        });
    }
    if let Some(load) = &results.load {
        if *case == LoadCase::Abandon {
            measures.push(Measure {
                name: "requests abandoned by their clients".into(),
                value: load.abandoned as f64,
                unit: "count".into(),
                limit: Some("at least 1".into()),
            });
        }
    }
    if results.phases.is_empty() {
        measures.push(Measure {
            name: "overall p95 (merged HDR histogram of the scored window)".into(),
            value: results.overall.p95_us as f64 / 1000.0,
            unit: "ms".into(),
            limit: None,
        });
    }
    for phase in &results.phases {
        measures.push(Measure {
            name: format!("{} phase p95 (merged HDR histogram)", phase.name.as_str()),
            value: phase.latency.p95_us as f64 / 1000.0,
            unit: "ms".into(),
            limit: None,
        });
        measures.push(Measure {
            name: format!("{} phase error rate", phase.name.as_str()),
            value: phase.error_rate,
            unit: "ratio".into(),
            limit: None,
        });
    }

    let failed: Vec<&(&BudgetOutcome, &str)> = judged
        .iter()
        .filter(|(o, _)| o.status == Status::Fail)
        .collect();
    let charged: Vec<Charge> = failed
        .iter()
        .map(|(o, clause)| {
            let measured = o
                .measured
                .map_or_else(|| "nothing".to_owned(), |m| format!("{m:.3}"));
            Charge::new(
                *clause,
                format!(
                    "{} measured {measured} {}, limit {} ({})",
                    o.name, o.unit, o.limit, o.detail
                ),
            )
        })
        .collect();
    let abandoned = results.load.as_ref().map_or(0, |l| l.abandoned);
    let outcome = if judged.is_empty() {
        Err(Ended::Error(format!(
            "the run scored nothing this case judges; see {results_file}"
        )))
    } else if *case == LoadCase::Abandon && abandoned == 0 {
        Err(Ended::Error(
            "no client abandoned a request, so the case tested nothing".into(),
        ))
    } else if failed.is_empty() {
        Ok(())
    } else {
        Err(Ended::Fail(format!(
            "{}; see {results_file}",
            charged
                .iter()
                .map(|c| format!("{}: {}", c.clause, c.why))
                .collect::<Vec<_>>()
                .join("; ")
        )))
    };
    Ran {
        outcome,
        transcript: Vec::new(),
        measures,
        duration_s,
        versions: results.machine.versions.clone(),
        charged,
        stopped_by: None,
    }
}

/// The capacity case's figures from its search. A search that ran gives a figure
/// whatever it found (a capacity below the lowest probe is a figure too); only a
/// search that probed nothing is an ERROR. The verdict is INFORMATIONAL either way,
/// since PERF-2 is an INFO clause.
pub fn capacity(found: &Capacity, file: &str, duration_s: f64) -> Ran {
    let lowest = found.steps.iter().map(|s| s.load).fold(f64::NAN, f64::min);
    let first_miss = found
        .steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| s.load)
        .fold(f64::NAN, f64::min);
    let unit = found.load_unit.as_str();
    let mut measures = vec![Measure {
        name: format!(
            "capacity at budget ({CAPACITY}): highest {unit} at which every budget held in every repeat"
        ),
        value: found.capacity.unwrap_or(0.0),
        unit: unit.to_owned(),
        limit: None,
    }];
    if !first_miss.is_nan() {
        measures.push(Measure {
            name: format!("lowest {unit} probed that missed a budget"),
            value: first_miss,
            unit: unit.to_owned(),
            limit: None,
        });
    }
    if let Some(knee) = found.knee {
        measures.push(Measure {
            name: "knee: the last load before p95 grows faster than the load".into(),
            value: knee,
            unit: unit.to_owned(),
            limit: None,
        });
    }
    measures.push(Measure {
        name: format!("probes ({} s scored each)", found.step_s),
        value: found.steps.len() as f64,
        unit: "count".into(),
        limit: None,
    });
    if found.capacity.is_none() && !found.steps.is_empty() {
        // Still a figure: below the lowest load probed.
        measures[0].name =
            format!("capacity at budget ({CAPACITY}): below the lowest {unit} probed ({lowest})");
    } else if first_miss.is_nan() && !found.steps.is_empty() {
        // No probe missed: the search stopped at its ceiling, so the figure is a floor.
        measures[0].name = format!(
            "capacity at budget ({CAPACITY}): at least this {unit}; no probe missed a budget, the search stopped at its ceiling"
        );
    }
    let outcome = if found.steps.is_empty() {
        Err(Ended::Error(format!(
            "the search probed nothing; see {file}"
        )))
    } else {
        Ok(())
    };
    Ran {
        outcome,
        transcript: Vec::new(),
        measures,
        duration_s,
        versions: Default::default(),
        charged: Vec::new(),
        stopped_by: None,
    }
}

/// What a budget's figure rests on, when that is the subject's own word: a percentile
/// of a `Server-Timing` operation is self-reported.
fn source(o: &BudgetOutcome, results: &Results) -> &'static str {
    let op = o.name.rsplit_once('.').map_or("", |(op, _)| op);
    if results.operations.contains_key(op) {
        "; self-reported in Server-Timing, cross-checked by HDR-4"
    } else {
        ""
    }
}

/// Adds the HDR-4 case's largest under-reports to the budgets case's figures: PERF-1
/// judges the operation budgets on the subject's own `Server-Timing`, and its evidence
/// should say how far those figures were found to stray below what was measured.
pub fn cross_check(cases: &mut [CaseResult]) {
    let found: Vec<Measure> = cases
        .iter()
        .filter(|r| r.id == TIMING_CASE && r.verdict != Verdict::NotRun)
        .flat_map(|r| r.measures.iter())
        .filter(|m| m.name.ends_with(UNDER_REPORT))
        .map(|m| Measure {
            name: format!("HDR-4 cross-check of the self-reported figures: {}", m.name),
            ..m.clone()
        })
        .collect();
    for r in cases.iter_mut().filter(|r| r.id == BUDGETS_CASE) {
        r.measures.extend(found.iter().cloned());
    }
}

/// Whether a limit is a floor or a ceiling, as the outcome's detail says.
fn sign(o: &BudgetOutcome) -> &'static str {
    if o.detail.starts_with("at least") {
        "≥"
    } else {
        "≤"
    }
}

#[cfg(test)]
mod tests;
