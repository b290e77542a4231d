//! `fixtures/degradation.toml`: how the seeds say the service degrades under each fault,
//! as data. Each expectation names the faults it applies to, the phase it looks at, one
//! measured figure, and a bound. Bounds may be expressions over the SUT's resilience
//! settings and the budgets (`retrieval_timeout + budget:request_handler.handle_request.p50`),
//! so the file states the seeds' rules rather than numbers derived from them.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::spec::SutLimits;
use crate::datafile::DataFileError;
use crate::faults::{kind_names, KINDS};
use crate::results::Unit;
use crate::scoring::budgets::{Budget, Limit as BudgetLimit};

pub use crate::results::PhaseName;

/// The figure an expectation bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// 2xx and 3xx answers / transactions.
    SuccessShare,
    /// 2xx answers from the template with quality below the gate / transactions.
    TemplateShare,
    /// 2xx answers with `cache` among their sources / transactions.
    CacheShare,
    /// Errors / transactions.
    ErrorRate,
    /// End-to-end p95, ms.
    P95Ms,
    /// End-to-end p99, ms.
    P99Ms,
    /// Calls that reached the LLM fake from the first `/health` sample that showed the
    /// breaker open until the end of the phase.
    LlmCallsWhileOpen,
    /// Of the phase's `/health` samples from the first that shows `component` in
    /// `state` on, the share that still shows it: 0 when it never appears.
    HealthHolds,
    /// 1 when the phase's last `/health` sample shows `component` in `state`, else 0.
    HealthAtEnd,
    /// Seconds from the removal of the fault until the service is back in the
    /// baseline band (see `recovery`).
    TimeToRecoverS,
    /// Streams that ended with neither a final nor an error event (cut, or stalled past
    /// `stall_after`) / streams: how many the service just let stop.
    SilentStopShare,
    /// Time to first token, p95, ms (streams only).
    TtftP95Ms,
    /// `--slo`: transactions that met every objective / transactions.
    Goodput,
}

impl Metric {
    /// The unit of the figure and of its bound.
    pub fn unit(self) -> Unit {
        match self {
            Metric::SuccessShare
            | Metric::TemplateShare
            | Metric::CacheShare
            | Metric::ErrorRate
            | Metric::HealthHolds
            | Metric::HealthAtEnd
            | Metric::SilentStopShare
            | Metric::Goodput => Unit::Ratio,
            Metric::P95Ms | Metric::P99Ms | Metric::TtftP95Ms => Unit::Ms,
            Metric::LlmCallsWhileOpen => Unit::Count,
            Metric::TimeToRecoverS => Unit::S,
        }
    }
}

/// A bound: a number in the metric's unit, or an expression such as
/// `"breaker_timeout + 20s"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    /// A plain number.
    Number(f64),
    /// Terms joined by `+`.
    Expr(String),
}

/// A bound whose terms cannot be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoundError {
    /// A duration term bounds a figure that is not a time.
    #[error("'{expr}': a duration cannot bound a {unit}")]
    NotATime {
        /// The whole bound.
        expr: String,
        /// The figure's unit.
        unit: Unit,
    },
    /// `budget:NAME` names no budget.
    #[error("'{expr}': no budget named {name}")]
    NoBudget {
        /// The whole bound.
        expr: String,
        /// The name after `budget:`.
        name: String,
    },
    /// A term is none of the known kinds.
    #[error(
        "'{expr}': '{term}' is not a number, a duration, budget:NAME, breaker_timeout, \
         retrieval_timeout, llm_timeout or breaker_allowance"
    )]
    Term {
        /// The whole bound.
        expr: String,
        /// The term.
        term: String,
    },
}

/// What a bound's terms are resolved against.
pub struct Context<'a> {
    /// The SUT's settings.
    pub limits: &'a SutLimits,
    /// The budgets in force.
    pub budgets: &'a [Budget],
    /// How long the breaker was seen open (for `breaker_allowance`).
    pub open_span: Duration,
}

impl Bound {
    /// The bound's value in `unit`.
    pub fn resolve(&self, unit: Unit, cx: &Context<'_>) -> Result<f64, BoundError> {
        let expr = match self {
            Bound::Number(n) => return Ok(*n),
            Bound::Expr(e) => e,
        };
        let as_unit = |d: Duration| match unit {
            Unit::Ms => Ok(d.as_secs_f64() * 1000.0),
            Unit::S => Ok(d.as_secs_f64()),
            other => Err(BoundError::NotATime {
                expr: expr.clone(),
                unit: other,
            }),
        };
        let mut total = 0.0;
        for term in expr.split('+').map(str::trim) {
            total += match term {
                "breaker_timeout" => as_unit(cx.limits.breaker_timeout)?,
                "retrieval_timeout" => as_unit(cx.limits.retrieval_timeout)?,
                "llm_timeout" => as_unit(cx.limits.llm_timeout)?,
                // The calls a breaker lets through while open: the failures that open
                // it again after each half-open probe fails, plus the probes.
                "breaker_allowance" => {
                    let t = cx.limits.breaker_timeout.as_secs_f64().max(1e-3);
                    let probes = (cx.open_span.as_secs_f64() / t).ceil();
                    f64::from(cx.limits.breaker_threshold) + probes
                }
                t if t.starts_with("budget:") => {
                    let name = &t["budget:".len()..];
                    let b = cx.budgets.iter().find(|b| b.name == name).ok_or_else(|| {
                        BoundError::NoBudget {
                            expr: expr.clone(),
                            name: name.to_owned(),
                        }
                    })?;
                    match b.limit {
                        BudgetLimit::Latency(d) => as_unit(d)?,
                        BudgetLimit::Ratio(r) => r,
                    }
                }
                t => match t.parse::<f64>() {
                    Ok(n) => n,
                    Err(_) => as_unit(crate::units::duration_or_zero(t).map_err(|_| {
                        BoundError::Term {
                            expr: expr.clone(),
                            term: t.to_owned(),
                        }
                    })?)?,
                },
            };
        }
        Ok(total)
    }
}

/// One expectation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Stable name, e.g. `llm.template_fallback`.
    pub name: String,
    /// Where the seeds state it.
    pub seed: String,
    /// Fault kinds it applies to (`llm-fail`, `db-down`, …), or `*` for all.
    pub faults: Vec<String>,
    /// Only when the fault makes its dependency fail outright (see [`crate::faults::Fault::is_failing`]).
    #[serde(default)]
    pub failing_only: bool,
    /// The phase it looks at.
    pub phase: PhaseName,
    /// The figure.
    pub metric: Metric,
    /// For the health metrics: `status` (the overall word) or a component name.
    #[serde(default)]
    pub component: Option<String>,
    /// For the health metrics: the expected word, e.g. `down` or `degraded`.
    #[serde(default)]
    pub state: Option<String>,
    /// Lower bound.
    #[serde(default)]
    pub at_least: Option<Bound>,
    /// Upper bound.
    #[serde(default)]
    pub at_most: Option<Bound>,
}

impl Expectation {
    /// Whether it applies to a fault of `kind`.
    pub fn applies_to(&self, kind: &str) -> bool {
        self.faults.iter().any(|f| f == "*" || f == kind)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    expect: Vec<Expectation>,
    /// The alerts each fault must raise: [`super::alerts::expect`] reads them.
    #[serde(default)]
    #[allow(dead_code)]
    alert: Vec<toml::Value>,
}

/// Reads and checks `path`: every fault kind known, one bound each, health metrics with
/// a component and state, and every bound resolvable against `limits` and `budgets`.
pub fn load(
    path: &Path,
    limits: &SutLimits,
    budgets: &[Budget],
) -> Result<Vec<Expectation>, DataFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
    let file: File = toml::from_str(&text).map_err(|e| DataFileError::toml(path, &text, &e))?;
    let cx = Context {
        limits,
        budgets,
        open_span: Duration::ZERO,
    };
    for e in &file.expect {
        let at = |m: String| DataFileError::invalid(path, format!("expectation {}", e.name), m);
        let known = |k: &str| k == "*" || KINDS.iter().any(|row| row.name == k);
        if let Some(k) = e.faults.iter().find(|k| !known(k)) {
            return Err(at(format!(
                "faults: '{k}' is not a fault kind (*, {})",
                kind_names()
            )));
        }
        let bound = match (&e.at_least, &e.at_most) {
            (Some(b), None) | (None, Some(b)) => b,
            _ => return Err(at("give exactly one of at_least and at_most".into())),
        };
        bound
            .resolve(e.metric.unit(), &cx)
            .map_err(|b| at(b.to_string()))?;
        let health = matches!(e.metric, Metric::HealthHolds | Metric::HealthAtEnd);
        if health && (e.component.is_none() || e.state.is_none()) {
            return Err(at("health metrics need component and state".into()));
        }
    }
    Ok(file.expect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn limits() -> SutLimits {
        SutLimits::from_env(&BTreeMap::new()).expect("defaults")
    }

    #[test]
    fn bounds_resolve_against_settings_and_budgets() {
        let budgets = crate::scoring::budgets::load(
            &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures/budgets.toml"),
        )
        .expect("budgets");
        let l = limits();
        let cx = Context {
            limits: &l,
            budgets: &budgets,
            open_span: Duration::from_secs(90),
        };
        let e = |s: &str, unit: Unit| Bound::Expr(s.into()).resolve(unit, &cx);
        let err = |s: &str, unit: Unit| e(s, unit).unwrap_err().to_string();
        assert_eq!(e("breaker_timeout + 20s", Unit::S), Ok(80.0));
        assert_eq!(
            e(
                "retrieval_timeout + budget:request_handler.handle_request.p50",
                Unit::Ms
            ),
            Ok(8000.0)
        );
        // Open for 90 s with a 60 s timeout: two probes on top of the threshold.
        assert_eq!(e("breaker_allowance", Unit::Count), Ok(7.0));
        assert!(err("budget:nope", Unit::Ms).contains("no budget named nope"));
        assert!(err("5s", Unit::Ratio).contains("cannot bound a ratio"));
        assert!(err("soon", Unit::S).contains("'soon'"));
    }

    #[test]
    fn the_shipped_file_loads_and_bad_ones_are_named() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures");
        let budgets = crate::scoring::budgets::load(&dir.join("budgets.toml")).expect("budgets");
        let shipped = load(&dir.join("degradation.toml"), &limits(), &budgets).expect("shipped");
        for kind in ["llm-fail", "db-latency", "db-down", "redis-down", "slicer"] {
            assert!(shipped.iter().any(|e| e.applies_to(kind)), "{kind}");
        }
        let tmp = tempfile::tempdir().expect("tmp");
        let bad = tmp.path().join("d.toml");
        let write = |body: &str| std::fs::write(&bad, body).expect("write");
        write(
            "[[expect]]\nname = \"x\"\nseed = \"s\"\nfaults = [\"flood\"]\nphase = \"fault\"\n\
             metric = \"error_rate\"\nat_most = 0.01\n",
        );
        let e = load(&bad, &limits(), &budgets).unwrap_err().to_string();
        assert!(e.contains("expectation x") && e.contains("'flood'"), "{e}");
        write(
            "[[expect]]\nname = \"y\"\nseed = \"s\"\nfaults = [\"*\"]\nphase = \"fault\"\n\
             metric = \"health_holds\"\nat_least = 0.9\n",
        );
        let e = load(&bad, &limits(), &budgets).unwrap_err().to_string();
        assert!(e.contains("component and state"), "{e}");
        write("[[expect]]\nname = 1\n");
        let e = load(&bad, &limits(), &budgets).unwrap_err().to_string();
        assert!(
            e.contains("degradation.toml:2: ") || e.contains(":2: "),
            "{e}"
        );
    }
}
