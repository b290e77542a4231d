//! The alert judging against known timelines: the shipped rules and expectations, a
//! fault of 10 s after a 10 s baseline, and notices placed where the answer is known.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::score::{judge, spans};
use super::*;
use crate::chaos::expect::Context;
use crate::chaos::recovery::Band;
use crate::chaos::spec::{ChaosSpec, Phases, SutLimits};
use crate::chaos::Fault;
use crate::faults::Target;
use crate::results::{AlertRole, AlertStatus, Status};

fn fixtures() -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures")
}

fn limits() -> SutLimits {
    let mut env = BTreeMap::new();
    env.insert("SUT_BREAKER_TIMEOUT_MS".to_owned(), "5000".to_owned());
    env.insert("SUT_LLM_TIMEOUT_MS".to_owned(), "3000".to_owned());
    SutLimits::from_env(&env).expect("limits")
}

fn alert_spec() -> AlertSpec {
    let rules = rules::load(&fixtures().join("alerts"), Windows::Shortened(60)).expect("rules");
    let limits = limits();
    let cx = Context {
        limits: &limits,
        budgets: &[],
        open_span: Duration::ZERO,
    };
    let expectations =
        expect::load(&fixtures().join("degradation.toml"), &rules, EVERY, &cx).expect("alerts");
    AlertSpec {
        rules,
        expectations,
        every: EVERY,
    }
}

fn spec(fault: Fault) -> ChaosSpec {
    ChaosSpec {
        faults: vec![fault],
        phases: Phases {
            baseline: Duration::from_secs(10),
            fault: Duration::from_secs(10),
            recovery: Duration::from_secs(20),
        },
        expectations: Vec::new(),
        band: Band::default(),
        limits: limits(),
        alerts: Some(alert_spec()),
    }
}

fn notice(t_s: f64, alert: &str, status: AlertStatus) -> AlertNotice {
    AlertNotice {
        t_s,
        alert: alert.into(),
        status,
        seed: None,
    }
}

fn judged(fault: Fault, notices: &[AlertNotice]) -> score::Judged {
    let spec = spec(fault);
    let a = spec.alerts.clone().expect("alerts");
    let limits = limits();
    let cx = Context {
        limits: &limits,
        budgets: &[],
        open_span: Duration::ZERO,
    };
    judge(&spec, notices, &a.rules, &a.expectations, a.every, &cx)
}

fn line<'a>(j: &'a score::Judged, name: &str) -> &'a crate::results::BudgetOutcome {
    j.outcomes
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no line {name} in {:?}", j.outcomes))
}

#[test]
fn the_shipped_rules_shorten_the_seed_windows_by_sixty() {
    let a = alert_spec();
    let db = a.rules.rule("DatabaseDown").expect("DatabaseDown");
    assert_eq!(db.hold, Duration::from_secs(1), "003's for: 1m");
    let errors = a.rules.rule("HighErrorRate").expect("HighErrorRate");
    assert_eq!(
        (errors.hold, errors.window),
        (Duration::from_secs(5), Duration::from_secs(5))
    );
    let cache = a.rules.rule("LowPatternCacheHitRate").expect("cache");
    assert_eq!(cache.window, Duration::from_secs(15), "002 §4.3's 15m");
    assert_eq!(a.rules.rules.len(), 7);
}

#[test]
fn a_fault_whose_alert_fires_and_clears_in_time_passes_with_its_times() {
    let j = judged(
        Fault::Down(Target::Db),
        &[
            notice(13.5, "DatabaseDown", AlertStatus::Firing),
            notice(23.0, "DatabaseDown", AlertStatus::Resolved),
        ],
    );
    let detect = line(&j, "alerts.DatabaseDown.detect_s");
    assert_eq!((detect.measured, detect.status), (Some(3.5), Status::Pass));
    // for (1 s) + every + every (2 s) + 3 s.
    assert_eq!(detect.limit, 6.0);
    let clear = line(&j, "alerts.DatabaseDown.clear_s");
    assert_eq!((clear.measured, clear.status), (Some(3.0), Status::Pass));
    let quiet = line(&j, "alerts.false_alarms");
    assert_eq!((quiet.measured, quiet.status), (Some(0.0), Status::Pass));
    let verdict = crate::scoring::verdict(&j.outcomes, &[]);
    assert!(verdict.passed, "{verdict:?}");
}

#[test]
fn a_missed_alert_a_slow_one_and_one_still_firing_fail_with_the_alert_exit_code() {
    let missed = judged(Fault::Down(Target::Db), &[]);
    let l = line(&missed, "alerts.DatabaseDown.detect_s");
    assert_eq!((l.measured, l.status), (None, Status::Fail));
    assert!(l.detail.contains("missed"), "{}", l.detail);
    let verdict = crate::scoring::verdict(&missed.outcomes, &[]);
    assert_eq!(verdict.exit_code, crate::exit::ALERTS_FAILED);

    let slow = judged(
        Fault::Down(Target::Db),
        &[notice(17.0, "DatabaseDown", AlertStatus::Firing)],
    );
    assert_eq!(
        line(&slow, "alerts.DatabaseDown.detect_s").status,
        Status::Fail
    );
    let stuck = line(&slow, "alerts.DatabaseDown.clear_s");
    assert_eq!((stuck.measured, stuck.status), (None, Status::Fail));
    assert!(stuck.detail.contains("still firing"), "{}", stuck.detail);
}

#[test]
fn an_alert_in_the_baseline_or_of_another_fault_is_a_false_alarm() {
    let j = judged(
        Fault::Down(Target::Redis),
        &[
            notice(4.0, "HighErrorRate", AlertStatus::Firing),
            notice(6.0, "HighErrorRate", AlertStatus::Resolved),
            notice(12.0, "RedisDown", AlertStatus::Firing),
            notice(12.5, "DatabaseDown", AlertStatus::Firing),
            notice(22.0, "RedisDown", AlertStatus::Resolved),
            notice(22.0, "DatabaseDown", AlertStatus::Resolved),
        ],
    );
    let quiet = line(&j, "alerts.false_alarms");
    assert_eq!((quiet.measured, quiet.status), (Some(2.0), Status::Fail));
    assert!(
        quiet.detail.contains("HighErrorRate at 4.0 s (baseline)"),
        "{}",
        quiet.detail
    );
    assert!(quiet
        .detail
        .contains("DatabaseDown at 12.5 s (not raised by this fault)"));
    let roles: Vec<(&str, AlertRole)> = j
        .scores
        .iter()
        .map(|s| (s.alert.as_str(), s.role))
        .collect();
    assert!(
        roles.contains(&("RedisDown", AlertRole::Expected)),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("DatabaseDown", AlertRole::Unexpected)),
        "{roles:?}"
    );
    assert_eq!(line(&j, "alerts.RedisDown.detect_s").status, Status::Pass);
}

#[test]
fn a_tolerated_alert_need_not_fire_but_must_clear_when_it_does() {
    let quiet = judged(
        Fault::Down(Target::Db),
        &[
            notice(12.0, "DatabaseDown", AlertStatus::Firing),
            notice(21.0, "DatabaseDown", AlertStatus::Resolved),
        ],
    );
    assert!(quiet
        .outcomes
        .iter()
        .all(|o| !o.name.contains("HighPatternAnalysisErrorRate")));
    let stuck = judged(
        Fault::Down(Target::Db),
        &[
            notice(12.0, "DatabaseDown", AlertStatus::Firing),
            notice(14.0, "HighPatternAnalysisErrorRate", AlertStatus::Firing),
            notice(21.0, "DatabaseDown", AlertStatus::Resolved),
        ],
    );
    let l = line(&stuck, "alerts.HighPatternAnalysisErrorRate.clear_s");
    assert_eq!((l.measured, l.status), (None, Status::Fail));
    assert_eq!(line(&stuck, "alerts.false_alarms").status, Status::Pass);
}

#[test]
fn notices_become_spans_and_a_repeated_firing_is_the_same_firing() {
    let s = spans(&[
        notice(1.0, "A", AlertStatus::Firing),
        notice(2.0, "A", AlertStatus::Firing),
        notice(3.0, "A", AlertStatus::Resolved),
        notice(4.0, "A", AlertStatus::Firing),
        notice(5.0, "B", AlertStatus::Resolved),
    ]);
    let a = &s["A"];
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].fired_s, a[0].resolved_s), (1.0, Some(3.0)));
    assert_eq!((a[1].fired_s, a[1].resolved_s), (4.0, None));
    assert!(
        !s.contains_key("B"),
        "a resolution with no firing is no span"
    );
}

#[test]
fn the_expectations_must_cover_every_fault_kind_and_name_real_rules() {
    let a = alert_spec();
    let limits = limits();
    let cx = Context {
        limits: &limits,
        budgets: &[],
        open_span: Duration::ZERO,
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = tmp.path().join("d.toml");
    std::fs::write(
        &bad,
        "[[alert]]\nname = \"x\"\nseed = \"s\"\nfaults = [\"db-down\"]\nfire = [\"DbGone\"]\n\
         detect_within = \"5s\"\nclear_within = \"5s\"\n",
    )
    .expect("write");
    let e = expect::load(&bad, &a.rules, EVERY, &cx)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("alert x") && e.contains("'DbGone' is no rule"),
        "{e}"
    );
    std::fs::write(
        &bad,
        "[[alert]]\nname = \"x\"\nseed = \"s\"\nfaults = [\"db-down\"]\nfire = [\"DatabaseDown\"]\n\
         detect_within = \"for + 5s\"\nclear_within = \"5s\"\n",
    )
    .expect("write");
    let e = expect::load(&bad, &a.rules, EVERY, &cx)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no [[alert]] covers 'llm-fail'"), "{e}");
}

#[test]
fn only_the_alert_lines_exit_3_and_the_budgets_alert_thresholds_are_service_budgets() {
    let mut j = judged(Fault::Down(Target::Db), &[]);
    let missed = crate::scoring::verdict(&j.outcomes, &[]);
    assert_eq!(missed.exit_code, crate::exit::ALERTS_FAILED);
    // budgets.toml's `alert.error_rate` is the service's error rate against an alert
    // threshold: failing it is the service's failure.
    let mut service = line(&j, "alerts.false_alarms").clone();
    service.name = "alert.error_rate".into();
    service.status = Status::Fail;
    j.outcomes.push(service);
    let both = crate::scoring::verdict(&j.outcomes, &[]);
    assert_eq!(both.exit_code, crate::exit::BUDGET_FAILED);
}

#[test]
fn an_expected_alert_is_bounded_by_the_entry_that_expects_it_not_one_that_tolerates_it() {
    // llm-fail 1.0 is covered by `alerts.llm_fails` (fire, within llm_timeout + 2
    // intervals + 3 s) and by `alerts.llm_degraded` (may fire, within one interval).
    let fail = Fault::LlmFail {
        rate: 1.0,
        status: crate::llm::FailStatus::ApiError,
    };
    let j = judged(
        fail,
        &[
            notice(14.0, "LlmCircuitBreakerOpen", AlertStatus::Firing),
            notice(26.0, "LlmCircuitBreakerOpen", AlertStatus::Resolved),
        ],
    );
    let detect = line(&j, "alerts.LlmCircuitBreakerOpen.detect_s");
    assert_eq!(detect.limit, 3.0 + 1.0 + 1.0 + 3.0, "{}", detect.detail);
    assert_eq!(detect.status, Status::Pass);
    // breaker_timeout (5 s) + window (0) + every (1 s) + 5 s.
    assert_eq!(line(&j, "alerts.LlmCircuitBreakerOpen.clear_s").limit, 11.0);
}
