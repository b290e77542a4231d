//! Scoring: every budget against what was recorded, as PASS, FAIL or not applicable.

pub mod budgets;
pub mod compare;
pub mod gate;

pub use budgets::{Budget, BudgetError, Kind, Limit};

use crate::exit;
use crate::record::{Latency, Recorded};
use crate::results::{BudgetOutcome, StageInfo, Status, Unit, Verdict};

/// Scores `budgets`. `stages` locate the load budgets' windows; `peak_users` stands in
/// for a run without stages (an iterations profile).
pub fn score(
    budgets: &[Budget],
    rec: &Recorded,
    stages: &[StageInfo],
    peak_users: u32,
) -> Vec<BudgetOutcome> {
    budgets
        .iter()
        .map(|b| score_one(b, rec, stages, peak_users))
        .collect()
}

fn ms(us: f64) -> f64 {
    us / 1000.0
}

/// A `stream.METRIC.pNN` budget over the scored streams.
fn stream(b: &Budget, rec: &Recorded, q: f64) -> Result<(f64, String), NotMeasured> {
    let s = &rec.stream;
    let h = match b.operation().strip_prefix("stream.") {
        Some("ttft") => &s.ttft,
        Some("itl") => &s.itl,
        Some("tpot") => &s.tpot,
        _ => &s.e2e,
    };
    if h.count() == 0 {
        return Err(NotMeasured("no stream measured it".into()));
    }
    Ok((
        ms(h.percentile_us(q) as f64),
        format!("{} values from {} streams", h.count(), s.streams()),
    ))
}

/// Why a budget has no measurement in this run (it is then not applicable).
struct NotMeasured(String);

fn score_one(b: &Budget, rec: &Recorded, stages: &[StageInfo], peak: u32) -> BudgetOutcome {
    let (unit, limit) = match b.limit {
        Limit::Latency(d) => (Unit::Ms, d.as_secs_f64() * 1000.0),
        Limit::Ratio(r) => (Unit::Ratio, r),
    };
    let q = b.percentile().unwrap_or(95.0);
    let measured: Result<(f64, String), NotMeasured> = match b.kind {
        Kind::Operation => match rec.operations.get(b.operation()) {
            Some(h) if h.count() > 0 => Ok((
                ms(h.percentile_us(q) as f64),
                format!("{} samples", h.count()),
            )),
            _ => Err(NotMeasured(format!(
                "{} not seen in Server-Timing",
                b.operation()
            ))),
        },
        Kind::Load => load(b, rec, stages, peak, q),
        Kind::ErrorRate if rec.totals.requests > 0 => Ok((
            rec.error_rate(),
            format!("{} of {}", rec.totals.errors, rec.totals.requests),
        )),
        Kind::Mean if rec.overall.count() > 0 => Ok((
            ms(rec.overall.mean_us()),
            format!("{} samples", rec.overall.count()),
        )),
        Kind::Overall if rec.overall.count() > 0 => Ok((
            ms(rec.overall.percentile_us(q) as f64),
            format!("{} samples", rec.overall.count()),
        )),
        Kind::Stream => stream(b, rec, q),
        _ => Err(NotMeasured("no transactions".into())),
    };
    match measured {
        Ok((m, detail)) => {
            let status = if m <= limit {
                Status::Pass
            } else {
                Status::Fail
            };
            let margin = if limit > 0.0 {
                (limit - m) / limit
            } else if m <= 0.0 {
                0.0
            } else {
                -1.0
            };
            let detail = match &b.overridden_by {
                Some(o) => format!("{detail}; limit from {o}"),
                None => detail,
            };
            BudgetOutcome {
                name: b.name.clone(),
                seed: b.seed.clone(),
                unit,
                measured: Some(m),
                limit,
                margin: Some(margin),
                status,
                detail,
            }
        }
        Err(why) => BudgetOutcome {
            name: b.name.clone(),
            seed: b.seed.clone(),
            unit,
            measured: None,
            limit,
            margin: None,
            status: Status::NotApplicable,
            detail: why.0,
        },
    }
}

/// The worst stage in the budget's user range, over each stage's hold window.
fn load(
    b: &Budget,
    rec: &Recorded,
    stages: &[StageInfo],
    peak: u32,
    q: f64,
) -> Result<(f64, String), NotMeasured> {
    let (lo, hi) = b.users.unwrap_or((0, u32::MAX));
    if stages.is_empty() {
        if !(lo..=hi).contains(&peak) || rec.overall.count() == 0 {
            return Err(NotMeasured(format!("no stage with {lo}–{hi} users")));
        }
        return Ok((
            ms(rec.overall.percentile_us(q) as f64),
            format!("{peak} users, whole run"),
        ));
    }
    let mut worst: Option<(f64, String)> = None;
    for s in stages.iter().filter(|s| (lo..=hi).contains(&s.users)) {
        let from = (s.start_s + s.ramp_s).ceil() as usize;
        let to = (s.start_s + s.ramp_s + s.hold_s).floor() as usize;
        let from = from.max(rec.warmup.as_secs() as usize);
        let w = rec.window(from, to);
        let n = w.counts.requests;
        if n == 0 {
            continue;
        }
        let v = ms(w.latency.percentile_us(q) as f64);
        if worst.as_ref().is_none_or(|(w, _)| v > *w) {
            worst = Some((
                v,
                match s.rate {
                    Some(r) => format!("{r} requests/s, {n} samples in {from}–{to} s"),
                    None => format!("{} users, {n} samples in {from}–{to} s", s.users),
                },
            ));
        }
    }
    worst.ok_or_else(|| NotMeasured(format!("no stage with {lo}–{hi} users")))
}

/// PASS when nothing failed; names what did. Failed alert lines alone exit with
/// [`exit::ALERTS_FAILED`], anything else failed with [`exit::BUDGET_FAILED`].
pub fn verdict(outcomes: &[BudgetOutcome], extra_failures: &[String]) -> Verdict {
    let mut failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == Status::Fail)
        .map(|o| o.name.clone())
        .collect();
    failed.extend(extra_failures.iter().cloned());
    let outcome = if failed.is_empty() {
        exit::Outcome::Passed
    } else if failed.iter().all(|f| f.starts_with(exit::ALERT_PREFIX)) {
        exit::Outcome::AlertsFailed
    } else {
        exit::Outcome::Failed
    };
    Verdict {
        passed: failed.is_empty(),
        exit_code: exit::process_exit_code(outcome),
        failed,
    }
}

/// Convenience for tests and reports: a histogram's percentile in ms.
pub fn percentile_ms(h: &Latency, q: f64) -> f64 {
    ms(h.percentile_us(q) as f64)
}

#[cfg(test)]
mod tests;
