//! `harness capacity`'s options, validated into a [`CapacityPlan`]: which loads to
//! probe, how often, for how long, and under which fault. Each bad value names its flag.

use std::time::Duration;

use super::session::{CapacityPlan, Objective, Probes};
use crate::commands::run::RunOptions;
use crate::faults::Fault;
use crate::load::DEFAULT_MAX_IN_FLIGHT;
use crate::plan::PlanError;
use crate::scoring::budgets::Limit;

/// The budget whose limit goodput counts against, unless `--goodput-limit` says.
pub const GOODPUT_BUDGET: &str = "request_handler.handle_request.p95";

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    /// Scenario, target, environment and budgets, as for `run`.
    pub run: RunOptions,
    /// `--rates 10,20,40`.
    pub rates: Option<String>,
    /// `--users 10,50,100`.
    pub users: Option<String>,
    /// `--start-rate`: where a search begins.
    pub start_rate: f64,
    /// `--max-rate`: the highest rate a search tries.
    pub max_rate: f64,
    /// `--precision`: when bisecting stops, as a fraction.
    pub precision: f64,
    /// `--repeats`.
    pub repeats: u32,
    /// `--step`.
    pub step: Duration,
    /// `--warmup`.
    pub warmup: Duration,
    /// `--fault SPEC`.
    pub fault: Option<String>,
    /// `--max-in-flight`.
    pub max_in_flight: u32,
    /// `--goodput-limit`.
    pub goodput_limit: Option<Duration>,
    /// `--objective`: `budgets`, or `goodput>=SHARE` (with `--slo`).
    pub objective: Option<String>,
}

fn bad(flag: &'static str, why: impl Into<String>) -> PlanError {
    PlanError::Value {
        flag,
        why: why.into(),
    }
}

/// Parses a comma-separated list of positive numbers, ascending.
fn list<T: std::str::FromStr + PartialOrd + Copy>(
    flag: &'static str,
    text: &str,
    positive: impl Fn(T) -> bool,
) -> Result<Vec<T>, PlanError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let v: T = part
            .parse()
            .map_err(|_| bad(flag, format!("'{part}' is not a number")))?;
        if !positive(v) {
            return Err(bad(flag, format!("'{part}' must be positive")));
        }
        out.push(v);
    }
    if out.windows(2).any(|w| w[1] <= w[0]) {
        return Err(bad(flag, "give the loads in ascending order, each once"));
    }
    Ok(out)
}

/// `--objective`: `budgets` (the default) or `goodput>=SHARE`, a share in (0, 1] or a
/// percentage; goodput needs `--slo` to count against.
fn objective(text: Option<&str>, slo: bool) -> Result<Objective, PlanError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(Objective::Budgets);
    };
    if text == "budgets" {
        return Ok(Objective::Budgets);
    }
    let Some(share) = text.strip_prefix("goodput>=") else {
        return Err(bad(
            "--objective",
            format!("'{text}' is not budgets or goodput>=SHARE, e.g. goodput>=0.95"),
        ));
    };
    let v = if share.ends_with('%') {
        crate::units::percent(share).ok()
    } else {
        share.parse::<f64>().ok()
    }
    .filter(|v| *v > 0.0 && *v <= 1.0)
    .ok_or_else(|| {
        bad(
            "--objective",
            format!("'{share}' is not a share in (0, 1] or a percentage"),
        )
    })?;
    if !slo {
        return Err(bad(
            "--objective",
            "goodput counts against objectives: give them with --slo, e.g. --slo ttft=500ms,e2e=5s",
        ));
    }
    Ok(Objective::Goodput(v))
}

impl CapacityOptions {
    /// Validates everything into a plan.
    pub fn into_plan(self) -> Result<CapacityPlan, PlanError> {
        let finite_positive = |r: f64| r.is_finite() && r > 0.0;
        let probes = match (&self.rates, &self.users) {
            (Some(_), Some(_)) => return Err(PlanError::Conflict("--rates", "--users")),
            (Some(r), None) => Probes::Rates(list("--rates", r, finite_positive)?),
            (None, Some(u)) => Probes::Users(list("--users", u, |n: u32| n > 0)?),
            (None, None) => {
                if !finite_positive(self.start_rate) {
                    return Err(bad("--start-rate", "must be a positive rate"));
                }
                if !(finite_positive(self.max_rate) && self.max_rate >= self.start_rate) {
                    return Err(bad("--max-rate", "must be at least --start-rate"));
                }
                if !(self.precision > 0.0 && self.precision < 1.0) {
                    return Err(bad("--precision", "must be between 0 and 1, e.g. 0.1"));
                }
                Probes::Search {
                    start: self.start_rate,
                    max: self.max_rate,
                    precision: self.precision,
                }
            }
        };
        if self.repeats == 0 {
            return Err(bad("--repeats", "must be at least 1"));
        }
        if self.step < Duration::from_secs(1) {
            return Err(bad("--step", "must be at least 1s"));
        }
        if self.max_in_flight == 0 {
            return Err(bad("--max-in-flight", "must be at least 1"));
        }
        let fault = match &self.fault {
            None => None,
            Some(spec) => Some(
                spec.parse::<Fault>()
                    .map_err(|e| bad("--fault", format!("'{spec}': {e}")))?,
            ),
        };
        if self.run.shard.is_some() {
            return Err(PlanError::Value {
                flag: "--shard",
                why: "harness capacity does not shard: use harness run --shard".into(),
            });
        }
        if fault.is_some() && self.run.sut_url.is_some() {
            return Err(PlanError::Conflict("--fault", "--sut-url"));
        }
        let objective = objective(self.objective.as_deref(), self.run.slo.is_some())?;
        let run = self.run.into_plan()?;
        let goodput_limit = self.goodput_limit.unwrap_or_else(|| {
            run.budgets
                .iter()
                .find(|b| b.name == GOODPUT_BUDGET)
                .and_then(|b| match b.limit {
                    Limit::Latency(d) => Some(d),
                    Limit::Ratio(_) => None,
                })
                .unwrap_or(Duration::from_secs(10))
        });
        Ok(CapacityPlan {
            run,
            probes,
            repeats: self.repeats,
            step: self.step,
            warmup: self.warmup,
            fault,
            max_in_flight: self.max_in_flight,
            goodput_limit,
            objective,
        })
    }
}

impl Default for CapacityOptions {
    fn default() -> Self {
        CapacityOptions {
            run: RunOptions::default(),
            rates: None,
            users: None,
            start_rate: 5.0,
            max_rate: 320.0,
            precision: 0.1,
            repeats: 1,
            step: Duration::from_secs(30),
            warmup: Duration::from_secs(5),
            fault: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            goodput_limit: None,
            objective: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(o: CapacityOptions) -> String {
        match o.into_plan() {
            Ok(_) => "a plan".into(),
            Err(e) => crate::session::error_chain(&e),
        }
    }

    #[test]
    fn bad_values_name_their_flag() {
        let with = |f: &dyn Fn(&mut CapacityOptions)| {
            let mut o = CapacityOptions::default();
            f(&mut o);
            err(o)
        };
        assert!(with(&|o| o.rates = Some("10,x".into())).starts_with("--rates: 'x'"));
        assert!(with(&|o| o.rates = Some("20,10".into())).starts_with("--rates: "));
        assert!(with(&|o| o.rates = Some("0".into())).starts_with("--rates: '0' must"));
        assert!(with(&|o| o.users = Some("-3".into())).starts_with("--users: "));
        assert!(with(&|o| o.repeats = 0).starts_with("--repeats: "));
        assert!(with(&|o| o.max_rate = 1.0).starts_with("--max-rate: "));
        assert!(with(&|o| o.fault = Some("flood".into())).starts_with("--fault: 'flood'"));
        assert!(with(&|o| o.objective = Some("p95<1s".into())).starts_with("--objective: 'p95<1s'"));
        assert!(
            with(&|o| o.objective = Some("goodput>=1.5".into())).starts_with("--objective: '1.5'")
        );
        assert!(with(&|o| o.objective = Some("goodput>=95%".into())).contains("--slo"));
        assert_eq!(
            objective(Some("goodput>=95%"), true).ok(),
            Some(Objective::Goodput(0.95))
        );
        assert!(with(&|o| {
            o.rates = Some("1".into());
            o.users = Some("1".into());
        })
        .starts_with("--rates and --users"));
    }
}
