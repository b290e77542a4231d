use super::*;
use crate::faults::Fault;

fn chaos_results() -> Results {
    let path = format!(
        "{}/fixtures/results/chaos.json",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("fixture parses")
}

fn fail(r: &mut Results, name: &str) {
    let o = r
        .budgets
        .iter_mut()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no outcome {name}"));
    o.status = Status::Fail;
}

fn llm_fail() -> LoadCase {
    LoadCase::Fault(Fault::LlmFail {
        rate: 1.0,
        status: crate::llm::FailStatus::ApiError,
    })
}

#[test]
fn a_passing_chaos_run_passes_its_fault_case_with_its_figures() {
    let ran = judge(&llm_fail(), &chaos_results(), "r.json", 1.0);
    assert_eq!(ran.outcome, Ok(()));
    assert!(ran.charged.is_empty(), "{:?}", ran.charged);
    let names: Vec<&str> = ran.measures.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.contains(&"chaos.llm.time_to_recover (RES-2)"),
        "{names:?}"
    );
    assert!(
        names.contains(&"chaos.llm.template_fallback (RES-1)"),
        "{names:?}"
    );
    assert!(names.contains(&"time to recover"), "{names:?}");
    assert!(
        names.contains(&"fault phase p95 (merged HDR histogram)"),
        "{names:?}"
    );
}

#[test]
fn recovery_is_charged_to_res_2_and_degradation_to_res_1_only() {
    let mut r = chaos_results();
    fail(&mut r, "chaos.llm.time_to_recover");
    let ran = judge(&llm_fail(), &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["RES-2"]);
    let Err(Ended::Fail(why)) = &ran.outcome else {
        panic!("{:?}", ran.outcome)
    };
    assert!(why.starts_with("RES-2: chaos.llm.time_to_recover"), "{why}");

    let mut r = chaos_results();
    fail(&mut r, "chaos.recovery.health_healthy");
    let ran = judge(&llm_fail(), &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["RES-2"]);

    let mut r = chaos_results();
    fail(&mut r, "chaos.llm.template_fallback");
    let ran = judge(&llm_fail(), &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["RES-1"]);
}

/// Adds a failed alert line named `name`, as a chaos run with alerts scores it.
fn missed_page(r: &mut Results, name: &str) {
    let mut o = r
        .budgets
        .iter()
        .find(|o| o.name.starts_with("chaos."))
        .cloned()
        .expect("a chaos line");
    o.name = name.to_owned();
    o.status = Status::Fail;
    o.measured = None;
    r.budgets.push(o);
}

#[test]
fn a_missed_page_is_charged_to_res_4_alone_and_only_by_a_fault_case() {
    let mut r = chaos_results();
    missed_page(&mut r, "alerts.LlmCircuitBreakerOpen.detect_s");
    let ran = judge(&llm_fail(), &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["RES-4"]);
    assert!(ran
        .measures
        .iter()
        .any(|m| m.name == "alerts.LlmCircuitBreakerOpen.detect_s (RES-4)" && m.value.is_nan()));
    // The abandonment run judges what abandoned requests leave, not the pages.
    r.load = Some(crate::results::LoadInfo {
        abandoned: 12,
        ..Default::default()
    });
    assert_eq!(judge(&LoadCase::Abandon, &r, "r.json", 1.0).outcome, Ok(()));
}

#[test]
fn baseline_budgets_of_a_chaos_run_bear_on_no_resilience_clause() {
    let mut r = chaos_results();
    let budget = r
        .budgets
        .iter()
        .find(|o| !o.name.starts_with("chaos."))
        .map(|o| o.name.clone())
        .expect("a budget");
    fail(&mut r, &budget);
    assert_eq!(judge(&llm_fail(), &r, "r.json", 1.0).outcome, Ok(()));
    // The same failure is the budgets case's.
    let ran = judge(&LoadCase::Budgets, &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["PERF-1"]);
}

#[test]
fn an_abandonment_run_where_nobody_left_tested_nothing() {
    let mut r = chaos_results();
    r.load = Some(crate::results::LoadInfo::default());
    let ran = judge(&LoadCase::Abandon, &r, "r.json", 1.0);
    assert!(
        matches!(ran.outcome, Err(Ended::Error(_))),
        "{:?}",
        ran.outcome
    );
    if let Some(l) = r.load.as_mut() {
        l.abandoned = 12;
    }
    assert_eq!(judge(&LoadCase::Abandon, &r, "r.json", 1.0).outcome, Ok(()));
    fail(&mut r, "chaos.recovery.health_healthy");
    let ran = judge(&LoadCase::Abandon, &r, "r.json", 1.0);
    assert_eq!(ran.charged_clauses(), ["RES-3"]);
}

/// A search over `probes` (load, passed), as `harness capacity` would record it.
fn search(probes: &[(f64, bool)]) -> Capacity {
    let steps: Vec<serde_json::Value> = probes
        .iter()
        .map(|(load, passed)| {
            serde_json::json!({
                "load": load, "repeat": 1, "throughput_rps": load, "goodput_rps": load,
                "p50_ms": 100.0, "p95_ms": 150.0, "p99_ms": 200.0, "operations_p95_ms": {},
                "error_rate": 0.0, "late": 0, "dropped": 0, "passed": passed,
                "failed": if *passed { vec![] } else { vec!["entity_resolver.resolve.p95"] },
                "results": "probe/results.json"
            })
        })
        .collect();
    let capacity = probes
        .iter()
        .filter(|(_, p)| *p)
        .map(|(l, _)| *l)
        .fold(None, |m: Option<f64>, l| Some(m.map_or(l, |m| m.max(l))));
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "capacity_id": "c", "command": [], "started_at": "t",
        "scenario": "seed-mix", "model": "open", "load_unit": "rate", "method": "search",
        "repeats": 1, "step_s": 30.0, "goodput_limit_ms": 10000.0, "steps": steps,
        "capacity": capacity, "knee": null, "method_note": "how"
    }))
    .expect("a capacity record")
}

#[test]
fn a_bracketed_search_gives_its_capacity_and_the_first_miss() {
    let ran = capacity(
        &search(&[(160.0, true), (320.0, false), (240.0, true)]),
        "c.json",
        1.0,
    );
    assert_eq!(ran.outcome, Ok(()));
    assert_eq!(ran.measures[0].value, 240.0);
    assert!(
        ran.measures[0].name.contains("highest rate"),
        "{}",
        ran.measures[0].name
    );
    assert!(ran
        .measures
        .iter()
        .any(|m| m.name.contains("missed") && m.value == 320.0));
}

#[test]
fn a_search_that_never_missed_says_its_figure_is_a_floor() {
    let ran = capacity(&search(&[(160.0, true), (320.0, true)]), "c.json", 1.0);
    assert_eq!(ran.outcome, Ok(()));
    assert_eq!(ran.measures[0].value, 320.0);
    assert!(
        ran.measures[0].name.contains("at least"),
        "{}",
        ran.measures[0].name
    );
}

#[test]
fn a_search_below_its_first_probe_is_a_figure_and_one_that_probed_nothing_an_error() {
    let ran = capacity(&search(&[(5.0, false)]), "c.json", 1.0);
    assert_eq!(ran.outcome, Ok(()));
    assert!(ran.measures[0]
        .name
        .contains("below the lowest rate probed (5)"));
    let ran = capacity(&search(&[]), "c.json", 1.0);
    assert!(matches!(ran.outcome, Err(Ended::Error(_))));
}

#[test]
fn the_budgets_case_shows_the_largest_under_report_the_timing_case_found() {
    use crate::results::certificate::{CaseResult, Level, Measure, Verdict};
    let result = |id: &str, measures: Vec<Measure>| CaseResult {
        id: id.into(),
        clauses: vec![],
        level: Level::Must,
        expectation: String::new(),
        verdict: Verdict::Pass,
        failed_clauses: vec![],
        clause_verdicts: vec![],
        observed: String::new(),
        reason: None,
        transcript: vec![],
        measures,
        duration_s: 0.0,
        reproduce: String::new(),
    };
    let figure = |name: &str, value| Measure {
        name: name.into(),
        value,
        unit: "ms".into(),
        limit: None,
    };
    let mut cases = vec![
        result(super::super::cases::BUDGETS_CASE, vec![]),
        result(
            super::super::cases::TIMING_CASE,
            vec![
                figure(
                    "entity_resolver.resolve ≥ the Postgres link's latency: largest under-report",
                    22.5,
                ),
                figure(
                    "entity_resolver.resolve ≥ the Postgres link's latency: checked",
                    20.0,
                ),
            ],
        ),
    ];
    cross_check(&mut cases);
    let names: Vec<(&str, f64)> = cases[0]
        .measures
        .iter()
        .map(|m| (m.name.as_str(), m.value))
        .collect();
    assert_eq!(
        names,
        [(
            "HDR-4 cross-check of the self-reported figures: entity_resolver.resolve ≥ the Postgres link's latency: largest under-report",
            22.5
        )]
    );
}
