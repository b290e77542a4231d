//! Two runs, budget by budget: what regressed beyond a threshold. Pure; the CLI reads
//! the files and prints.

use crate::exit;
use crate::results::{
    BudgetOutcome, Comparison, Delta, DeltaVerdict, Results, RunRef, Status, Unit, SCHEMA_VERSION,
};

/// How much worse is too much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Largest allowed growth: a fraction of the base value for latencies, of the limit
    /// for ratios.
    pub max_regression: f64,
    /// Latency changes below this many milliseconds are noise.
    pub min_delta_ms: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_regression: 0.10,
            min_delta_ms: 1.0,
        }
    }
}

/// Compares `new` with `base`. A row regresses when its value grew beyond the
/// thresholds, or when it passed in the base run and fails in the new one. Chaos
/// expectations (`chaos.*`) have no single better direction, so only a change of
/// outcome counts for them.
pub fn compare(
    base: (&str, &Results),
    new: (&str, &Results),
    thresholds: Thresholds,
) -> Comparison {
    let mut rows: Vec<Delta> = new
        .1
        .budgets
        .iter()
        .map(|n| {
            let b = base.1.budgets.iter().find(|b| b.name == n.name);
            row(n, b, Some(n), thresholds)
        })
        .collect();
    for b in &base.1.budgets {
        if !new.1.budgets.iter().any(|n| n.name == b.name) {
            rows.push(row(b, Some(b), None, thresholds));
        }
    }
    let regressions: Vec<String> = rows
        .iter()
        .filter(|r| r.verdict == DeltaVerdict::Regressed)
        .map(|r| r.name.clone())
        .collect();
    Comparison {
        schema_version: SCHEMA_VERSION,
        base: run_ref(base),
        new: run_ref(new),
        max_regression: thresholds.max_regression,
        min_delta_ms: thresholds.min_delta_ms,
        exit_code: exit::process_exit_code(if regressions.is_empty() {
            exit::Outcome::Passed
        } else {
            exit::Outcome::Failed
        }),
        rows,
        regressions,
        warnings: unlike(base.1, new.1),
    }
}

/// What differs between the runs beyond the code under test.
fn unlike(base: &Results, new: &Results) -> Vec<String> {
    let (b, n) = (&base.scenario, &new.scenario);
    let mut out = Vec::new();
    let mut differs = |what: &str, b: String, n: String| {
        if b != n {
            out.push(format!("different {what}: {b} in base, {n} in new"));
        }
    };
    differs("scenario", b.name.clone(), n.name.clone());
    differs("profile", b.profile.clone(), n.profile.clone());
    differs("user count", b.users.to_string(), n.users.to_string());
    differs("LLM profile", b.llm_profile.clone(), n.llm_profile.clone());
    let backend = |r: &Results| r.target.backend.clone().unwrap_or_else(|| "none".into());
    differs("backend", backend(base), backend(new));
    differs(
        "core count",
        base.machine.cores.to_string(),
        new.machine.cores.to_string(),
    );
    out
}

fn run_ref((file, r): (&str, &Results)) -> RunRef {
    RunRef {
        file: file.to_owned(),
        run_id: r.run_id.clone(),
        git_sha: r.machine.git_sha.clone(),
    }
}

/// `either` is whichever of `base` and `new` is present (the new one when both are).
fn row(
    either: &BudgetOutcome,
    base: Option<&BudgetOutcome>,
    new: Option<&BudgetOutcome>,
    t: Thresholds,
) -> Delta {
    let b = base.and_then(|b| b.measured);
    let n = new.and_then(|n| n.measured);
    let change = match (b, n) {
        (Some(b), Some(n)) if b > 0.0 => Some((n - b) / b),
        _ => None,
    };
    let base_status = base.map(|b| b.status);
    let new_status = new.map(|n| n.status);
    let verdict = match (b, n) {
        (None, None) => DeltaVerdict::Unchanged,
        (None, Some(_)) => DeltaVerdict::New,
        (Some(_), None) => DeltaVerdict::Gone,
        (Some(b), Some(n)) => {
            if base_status == Some(Status::Pass) && new_status == Some(Status::Fail) {
                DeltaVerdict::Regressed
            } else if base_status == Some(Status::Fail) && new_status == Some(Status::Pass) {
                DeltaVerdict::Improved
            } else if either.name.starts_with("chaos.") {
                DeltaVerdict::Unchanged
            } else {
                by_size(either.unit, either.limit, b, n, t)
            }
        }
    };
    Delta {
        name: either.name.clone(),
        unit: either.unit,
        limit: either.limit,
        base: b,
        new: n,
        change,
        base_status,
        new_status,
        verdict,
    }
}

/// Lower is better for every budget: latencies, error and miss rates.
fn by_size(unit: Unit, limit: f64, base: f64, new: f64, t: Thresholds) -> DeltaVerdict {
    let allowed = match unit {
        Unit::Ms => (base * t.max_regression).max(t.min_delta_ms),
        _ => limit * t.max_regression,
    };
    let grew = new - base;
    if grew > allowed {
        DeltaVerdict::Regressed
    } else if -grew > allowed {
        DeltaVerdict::Improved
    } else {
        DeltaVerdict::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        name: &str,
        unit: Unit,
        measured: Option<f64>,
        limit: f64,
        status: Status,
    ) -> BudgetOutcome {
        BudgetOutcome {
            name: name.into(),
            seed: String::new(),
            unit,
            measured,
            limit,
            margin: None,
            status,
            detail: String::new(),
        }
    }

    fn verdict(base: &BudgetOutcome, new: &BudgetOutcome) -> DeltaVerdict {
        row(new, Some(base), Some(new), Thresholds::default()).verdict
    }

    #[test]
    fn latency_regresses_past_the_threshold_and_the_noise_floor() {
        let at = |ms| outcome("op.p95", Unit::Ms, Some(ms), 1000.0, Status::Pass);
        assert_eq!(verdict(&at(100.0), &at(109.0)), DeltaVerdict::Unchanged);
        assert_eq!(verdict(&at(100.0), &at(111.0)), DeltaVerdict::Regressed);
        assert_eq!(verdict(&at(100.0), &at(85.0)), DeltaVerdict::Improved);
        // 0.5 ms → 0.9 ms is +80%, but under the 1 ms floor.
        assert_eq!(verdict(&at(0.5), &at(0.9)), DeltaVerdict::Unchanged);
    }

    #[test]
    fn ratios_move_against_their_limit() {
        let at = |r| outcome("load.error_rate", Unit::Ratio, Some(r), 0.01, Status::Pass);
        assert_eq!(verdict(&at(0.0), &at(0.0009)), DeltaVerdict::Unchanged);
        assert_eq!(verdict(&at(0.0), &at(0.002)), DeltaVerdict::Regressed);
    }

    #[test]
    fn a_new_failure_regresses_whatever_its_size() {
        let base = outcome("op.p95", Unit::Ms, Some(990.0), 1000.0, Status::Pass);
        let new = outcome("op.p95", Unit::Ms, Some(1001.0), 1000.0, Status::Fail);
        assert_eq!(verdict(&base, &new), DeltaVerdict::Regressed);
    }

    #[test]
    fn chaos_expectations_count_only_a_change_of_outcome() {
        let at = |v, s| outcome("chaos.llm.template_fallback", Unit::Ratio, Some(v), 0.9, s);
        assert_eq!(
            verdict(&at(1.0, Status::Pass), &at(0.5, Status::Pass)),
            DeltaVerdict::Unchanged
        );
        assert_eq!(
            verdict(&at(1.0, Status::Pass), &at(0.5, Status::Fail)),
            DeltaVerdict::Regressed
        );
    }

    #[test]
    fn runs_that_are_not_like_for_like_are_flagged_not_failed() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/results/smoke.json"
        );
        let base: Results =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("parses");
        let same = compare(("a", &base), ("b", &base), Thresholds::default());
        assert!(same.warnings.is_empty(), "{:?}", same.warnings);
        let mut new = base.clone();
        new.scenario.profile = "ci".into();
        new.scenario.users = 100;
        new.target.backend = Some("docker".into());
        let c = compare(("a", &base), ("b", &new), Thresholds::default());
        assert_eq!(
            c.warnings,
            [
                "different profile: smoke in base, ci in new",
                "different user count: 5 in base, 100 in new",
                "different backend: native in base, docker in new",
            ]
        );
        assert_eq!(c.exit_code, exit::SUCCESS);
    }

    #[test]
    fn budgets_on_one_side_only_are_new_or_gone() {
        let b = outcome("a", Unit::Ms, Some(1.0), 10.0, Status::Pass);
        let none = outcome("a", Unit::Ms, None, 10.0, Status::NotApplicable);
        assert_eq!(verdict(&none, &b), DeltaVerdict::New);
        assert_eq!(verdict(&b, &none), DeltaVerdict::Gone);
    }
}
