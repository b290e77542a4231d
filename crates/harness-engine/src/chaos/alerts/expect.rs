//! The alerts each fault must raise (`[[alert]]` in `fixtures/degradation.toml`): which
//! must fire and how soon after the fault goes in, which may fire, and how soon each
//! must clear once the fault is gone. Whatever else fires, in the fault phase or in the
//! healthy baseline, is a false alarm.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::rules::{Rule, RuleSet};
use crate::chaos::expect::{Bound, BoundError, Context};
use crate::datafile::DataFileError;
use crate::faults::{kind_names, Fault, KINDS};
use crate::results::Unit;

/// One fault kind's alerts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertExpectation {
    /// Stable name, e.g. `alerts.db_down`.
    pub name: String,
    /// Where the seeds say it.
    pub seed: String,
    /// Fault kinds it applies to.
    pub faults: Vec<String>,
    /// Only when the fault makes its dependency fail outright.
    #[serde(default)]
    pub failing_only: bool,
    /// Alerts that must fire.
    #[serde(default)]
    pub fire: Vec<String>,
    /// Alerts that may fire (a consequence the seeds do not rule out) but need not.
    #[serde(default)]
    pub may_fire: Vec<String>,
    /// From the fault going in to the first notification of each alert of `fire`:
    /// terms joined by `+`, durations, `for` and `window` (the alert's own, as they
    /// run), `every` (the scrape interval), and the SUT's timers.
    pub detect_within: String,
    /// From the fault coming out to the resolved notification of each alert that
    /// fired, in the same terms.
    pub clear_within: String,
}

impl AlertExpectation {
    /// Whether it applies to `fault`; `failing` says whether the fault makes its
    /// dependency fail outright with the SUT's settings.
    pub fn applies_to(&self, fault: &Fault, failing: bool) -> bool {
        self.faults.iter().any(|k| k == fault.kind()) && (!self.failing_only || failing)
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    alert: Vec<AlertExpectation>,
}

/// A bound of `rule` in seconds: its own `for`, `window` and the scrape interval
/// `every`, then whatever [`Bound`] resolves (durations, the SUT's timers).
pub fn seconds(
    expr: &str,
    rule: &Rule,
    every: Duration,
    cx: &Context<'_>,
) -> Result<f64, BoundError> {
    let mut total = 0.0;
    let mut rest = Vec::new();
    for term in expr.split('+').map(str::trim) {
        match term {
            "for" => total += rule.hold.as_secs_f64(),
            "window" => total += rule.window.as_secs_f64(),
            "every" => total += every.as_secs_f64(),
            t => rest.push(t),
        }
    }
    if !rest.is_empty() {
        total += Bound::Expr(rest.join(" + ")).resolve(Unit::S, cx)?;
    }
    Ok(total)
}

/// Reads the `[[alert]]` tables of `path` and checks them against `rules`: every fault
/// kind known and covered, every alert named a rule, every bound resolvable.
pub fn load(
    path: &Path,
    rules: &RuleSet,
    every: Duration,
    cx: &Context<'_>,
) -> Result<Vec<AlertExpectation>, DataFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
    // The file's other tables are the degradation expectations' business.
    let file: File = toml::from_str(&text).map_err(|e| DataFileError::toml(path, &text, &e))?;
    for a in &file.alert {
        let at = |m: String| DataFileError::invalid(path, format!("alert {}", a.name), m);
        if let Some(k) = a
            .faults
            .iter()
            .find(|k| !KINDS.iter().any(|row| row.name == k.as_str()))
        {
            return Err(at(format!(
                "faults: '{k}' is not a fault kind ({})",
                kind_names()
            )));
        }
        for name in a.fire.iter().chain(&a.may_fire) {
            let Some(rule) = rules.rule(name) else {
                let known: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
                return Err(at(format!(
                    "'{name}' is no rule of the alert rules ({})",
                    known.join(", ")
                )));
            };
            for (field, expr) in [
                ("detect_within", &a.detect_within),
                ("clear_within", &a.clear_within),
            ] {
                seconds(expr, rule, every, cx).map_err(|e| at(format!("{field}: {e}")))?;
            }
        }
    }
    if let Some(k) = KINDS.iter().find(|k| {
        !file
            .alert
            .iter()
            .any(|a| a.faults.iter().any(|f| f == k.name))
    }) {
        return Err(DataFileError::invalid(
            path,
            "alert",
            format!(
                "no [[alert]] covers '{}': say what it must raise, even if nothing",
                k.name
            ),
        ));
    }
    Ok(file.alert)
}
