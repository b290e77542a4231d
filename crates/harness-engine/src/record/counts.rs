//! The one set of counters the engine keeps about transactions, wherever it counts
//! them: per second of the timeline ([`super::Second`]), over the scored run
//! ([`super::Recorded::totals`]), and over a chaos phase (a window of seconds). The
//! results file's `totals`, `timeline` and `phases` are views of it.

use std::collections::BTreeMap;

use super::{ratio, Sample};
use crate::results::{SecondPoint, Totals};

/// How many transactions, and what their answers said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Transactions.
    pub requests: u64,
    /// Of those, errors.
    pub errors: u64,
    /// Of those, answers with `fallback` other than `none`.
    pub fallbacks: u64,
    /// Of those, answers with `degraded: true`.
    pub degraded: u64,
    /// Of those, template answers (see [`Sample::is_template_answer`]).
    pub templated: u64,
    /// Of those, answers with `cache` among their sources.
    pub cache_sourced: u64,
    /// Status mix.
    pub statuses: BTreeMap<String, u64>,
    /// `fallback` values.
    pub fallback_kinds: BTreeMap<String, u64>,
    /// `--slo`: of the transactions, those that met every objective; `None` when no
    /// objective was given.
    pub slo_met: Option<u64>,
}

impl Counts {
    /// Counts one sample, whose status label is `label`.
    pub fn add(&mut self, s: &Sample, label: &str) {
        self.requests += 1;
        self.errors += u64::from(s.is_error());
        self.fallbacks += u64::from(s.fallback.as_deref().is_some_and(|f| f != "none"));
        self.degraded += u64::from(s.degraded == Some(true));
        self.templated += u64::from(s.is_template_answer());
        self.cache_sourced += u64::from(s.is_cache_sourced());
        bump(&mut self.statuses, label, 1);
        if let Some(f) = &s.fallback {
            bump(&mut self.fallback_kinds, f, 1);
        }
    }

    /// Counts a status alone, with no transaction: an abandoned request shows in the
    /// status mix and nowhere else.
    pub fn add_status(&mut self, label: &str) {
        bump(&mut self.statuses, label, 1);
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.fallbacks += other.fallbacks;
        self.degraded += other.degraded;
        self.templated += other.templated;
        self.cache_sourced += other.cache_sourced;
        if let Some(n) = other.slo_met {
            *self.slo_met.get_or_insert(0) += n;
        }
        for (k, v) in &other.statuses {
            bump(&mut self.statuses, k, *v);
        }
        for (k, v) in &other.fallback_kinds {
            bump(&mut self.fallback_kinds, k, *v);
        }
    }

    /// Counts one transaction's judgement against `--slo`.
    pub fn judge(&mut self, met: bool) {
        *self.slo_met.get_or_insert(0) += u64::from(met);
    }

    /// slo_met / requests, when objectives were given.
    pub fn goodput(&self) -> Option<f64> {
        self.slo_met.map(|m| ratio(m, self.requests))
    }

    /// errors / requests; 0 when empty.
    pub fn error_rate(&self) -> f64 {
        ratio(self.errors, self.requests)
    }

    /// The results file's `totals`, at `throughput_rps`.
    pub fn to_totals(&self, throughput_rps: f64) -> Totals {
        Totals {
            requests: self.requests,
            errors: self.errors,
            error_rate: self.error_rate(),
            throughput_rps,
            statuses: self.statuses.clone(),
            fallbacks: self.fallback_kinds.clone(),
        }
    }

    /// The counts of one second of a results file's timeline.
    pub fn of_point(p: &SecondPoint) -> Counts {
        Counts {
            requests: p.requests,
            errors: p.errors,
            fallbacks: p.fallbacks,
            degraded: p.degraded,
            templated: p.templated,
            cache_sourced: p.cache_sourced,
            statuses: p.statuses.clone(),
            fallback_kinds: p.fallback_kinds.clone(),
            slo_met: p.slo_met,
        }
    }

    /// What a results file's `totals` hold: it keeps no answer kinds for the whole run
    /// (only its seconds do), so those read 0.
    pub fn from_totals(t: &Totals) -> Counts {
        Counts {
            requests: t.requests,
            errors: t.errors,
            statuses: t.statuses.clone(),
            fallback_kinds: t.fallbacks.clone(),
            ..Counts::default()
        }
    }
}

/// Adds `n` to `map[key]`, allocating the key only the first time it is seen: the
/// collector does this several times a sample, at tens of thousands of samples a second.
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}
