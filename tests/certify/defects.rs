//! Broken implementations are caught: the reference built with its `defects` feature
//! (`sut-defects`, src/defect.rs in the sut crate), one deliberate breach at a time,
//! started with `--sut-cmd`. Each must fail exactly the clauses it breaks: not one
//! fewer (the breach is caught) and not one more (no clause is blamed for another's),
//! over the cases of those clauses and a fixed set of sentinels across the contract.

use crate::helpers::{certificate, certify, clauses_with, not_passed, reports};
use crate::support::{defects_binary, text, ONE_AT_A_TIME};

/// Each breach (its `SUT_DEFECT` name), the load cases it runs, and the clauses it
/// breaks. A load case takes about 45 s, so each breach runs the ones its breach bears
/// on (each a case of a clause it breaks, so a case that fails); of the checks, those of
/// the clauses it breaks and the sentinels below.
const BREACHES: [(&str, &[&str], &[&str]); 12] = [
    // When no model answers, 503 instead of the template: under the LLM failing the
    // answers are errors, not the template (RES-1), and the errors page HighErrorRate,
    // which that fault must not (RES-4).
    (
        "no-template-fallback",
        &["degrades_and_recovers_under_llm_fail"],
        &["CHAT-6", "CHAT-7", "RES-1", "RES-4"],
    ),
    // Malformed JSON gets a 500.
    ("malformed-json-500", &[], &["LIM-3", "LIM-4"]),
    // /health answers 200 while the database is down, so the database fault does not
    // show as `unhealthy` (RES-1).
    (
        "health-ignores-db",
        &["degrades_and_recovers_under_db_down"],
        &["HEALTH-1", "RES-1"],
    ),
    // POST /api/chat takes a request without a token.
    ("chat-without-auth", &[], &["AUTH-2"]),
    // Any caller reads any job.
    ("jobs-readable-by-anyone", &[], &["DOC-9"]),
    // Once open, the breaker never lets a probe through: it never closes, a cancelled
    // probe cannot be followed by another, queued jobs never complete, and the service
    // does not recover from the LLM failing, with or without clients abandoning; and
    // its page never clears (RES-4).
    (
        "breaker-never-closes",
        &[
            "degrades_and_recovers_under_llm_fail",
            "abandoned_requests_leave_no_stuck_state",
        ],
        &["DOC-10", "LLM-1", "LLM-3", "RES-2", "RES-3", "RES-4"],
    ),
    // Two breaches that one case judges (rate_limit_body_limit_and_malformed_json): a
    // 413 without `Connection: close`, and 422 for malformed JSON. Each check is
    // charged to its own clause, and the first failure does not hide the second.
    (
        "no-connection-close,malformed-json-422",
        &[],
        &["LIM-2", "LIM-3"],
    ),
    // Server-Timing gives entity resolution a quarter of its time: every other case
    // believes it; only the cross-check against the Postgres latency does not.
    ("server-timing-under-reports", &[], &["HDR-4"]),
    // Two breaches of the streaming route: a stream whose model fails after its first
    // token just stops, with no error event; and the route holds every event back
    // until the answer is whole. Each is charged to its own clause.
    (
        "stream-without-end,stream-buffers",
        &[],
        &["STREAM-2", "STREAM-4"],
    ),
    // `circuit_breaker_state` reads 0 whatever the breaker does: the breaker opens and
    // the service degrades as it should, but nobody is paged (RES-4).
    (
        "breaker-metric-stuck",
        &["degrades_and_recovers_under_llm_fail"],
        &["ALERT-1", "RES-4"],
    ),
    // `dependency_up` says the database is up while it is down: `/health` is right,
    // the page is missed (RES-4).
    (
        "dependency-metric-ignores-db",
        &["degrades_and_recovers_under_db_down"],
        &["ALERT-2", "RES-4"],
    ),
    // A 5xx is left out of `http_requests_total`, so no error-rate alert could see it.
    ("uncounted-5xx", &[], &["ALERT-3"]),
];

/// Cases every breach runs besides those of the clauses it breaks: quick ones across
/// the contract (chat, tokens, roles, job access, bad input, the LLM failing, health,
/// start-up), so that each run shows the breach fails nothing it should not. The
/// reference run in `runs.rs` runs every case.
const SENTINELS: [&str; 8] = [
    "chat_answers_with_the_contract_fields_and_headers",
    "jwt_attacks_get_401_or_403",
    "each_role_reaches_what_seed_000_grants_it",
    "a_job_is_readable_by_its_owner_auditors_and_admins_only",
    "bad_input_gets_400_and_no_error_carries_library_text",
    "llm_failure_rate_1_gives_the_template",
    "health_reflects_components",
    "a_missing_or_malformed_variable_is_named_at_start_up",
];

/// The cases that judge `clause`.
fn clause_cases(clause: &str) -> Vec<String> {
    let catalogue = harness::certify::catalogue::Catalogue::built_in().expect("catalogue");
    catalogue
        .clauses
        .iter()
        .filter(|c| c.id == clause)
        .flat_map(|c| c.cases.iter().cloned())
        .collect()
}

/// What a breach's run takes: every check (no load) that judges a clause in `breaks`,
/// the load cases in `loads`, and the sentinels; sorted, once each.
fn cases_for(breaks: &[&str], loads: &[&str]) -> Vec<String> {
    for s in SENTINELS {
        assert!(
            harness::certify::cases::find(s).is_some(),
            "sentinel {s}: no such case"
        );
    }
    let catalogue = harness::certify::catalogue::Catalogue::built_in().expect("catalogue");
    let mut ids: Vec<String> = catalogue
        .clauses
        .iter()
        .filter(|c| breaks.contains(&c.id.as_str()))
        .flat_map(|c| c.cases.iter().cloned())
        .filter(|id| harness::certify::cases::find(id).is_some_and(|case| case.load().is_none()))
        .chain(
            loads
                .iter()
                .chain(SENTINELS.iter())
                .map(|s| (*s).to_owned()),
        )
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Certifies the build with breach `defect`, running the load cases in `loads`; what
/// it got wrong, if anything.
fn judge(binary: &str, defect: &str, loads: &[&str], breaks: &[&str]) -> Option<String> {
    let dir = reports(&format!("certify-defect-{defect}"));
    let command = format!("SUT_DEFECT={defect} exec {binary}");
    let started = std::time::Instant::now();
    let mut args = vec!["--sut-cmd".to_owned(), command, "--quiet".to_owned()];
    for case in cases_for(breaks, loads) {
        args.extend(["--case".to_owned(), case]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = certify(&dir, &args);
    let cert = certificate(&dir);
    let failed = clauses_with(&cert, "FAIL");
    eprintln!(
        "{defect}: exit {:?} in {:?}, failed {failed:?}",
        out.status.code(),
        started.elapsed()
    );
    let errors = clauses_with(&cert, "ERROR");
    if out.status.code() != Some(1) || cert["outcome"] != "NOT_CERTIFIED" {
        return Some(format!(
            "{defect}: exit {:?}, {}: {}",
            out.status.code(),
            cert["outcome"],
            text(&out)
        ));
    }
    (failed != breaks || !errors.is_empty()).then(|| {
        format!(
            "{defect}: failed {failed:?}, expected {breaks:?}; errors {errors:?}\n{}",
            not_passed(&cert)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_implementations_fail_exactly_the_clauses_they_break() {
    let _one = ONE_AT_A_TIME.lock().await;
    let binary = defects_binary().display().to_string();
    let binary = binary.as_str();
    // Every breach runs side by side, each with its own environment and SUT: the checks
    // mostly wait on the SUT's timers, and the only load cases run here are those of the
    // clauses a breach breaks, which fail whatever else shares the machine.
    for (_, loads, breaks) in BREACHES {
        for load in loads {
            assert!(
                breaks
                    .iter()
                    .any(|b| clause_cases(b).iter().any(|c| c == load)),
                "{load} is not a case of a clause the breach breaks: it must pass, so it \
                 would need the machine to itself"
            );
        }
    }
    let wrong: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = BREACHES
            .iter()
            .map(|&(d, l, b)| s.spawn(move || judge(binary, d, l, b)))
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().expect("a breach's run panicked"))
            .collect()
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
