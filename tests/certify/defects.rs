//! Broken implementations are caught: the reference built with its `defects` feature
//! (`sut-defects`, src/defect.rs in the sut crate), one deliberate breach at a time,
//! started with `--sut-cmd`. Each must fail exactly the clauses it breaks: not one
//! fewer (the breach is caught) and not one more (no clause is blamed for another's).

use crate::helpers::{certificate, certify, clauses_with, defects_binary, not_passed, reports};
use crate::support::{text, ONE_AT_A_TIME};

/// Each breach (its `SUT_DEFECT` name), the load cases it runs, and the clauses it
/// breaks. A load case takes about 45 s, so each breach runs the ones its breach bears
/// on, and the rest are excluded (with the reason, in its certificate); the reference
/// run in `runs.rs` runs them all.
const BREACHES: [(&str, &[&str], &[&str]); 6] = [
    // When no model answers, 503 instead of the template: under the LLM failing the
    // answers are errors, not the template (RES-1).
    (
        "no-template-fallback",
        &["degrades_and_recovers_under_llm_fail"],
        &["CHAT-6", "CHAT-7", "RES-1"],
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
    // does not recover from the LLM failing, with or without clients abandoning.
    (
        "breaker-never-closes",
        &[
            "degrades_and_recovers_under_llm_fail",
            "abandoned_requests_leave_no_stuck_state",
        ],
        &["DOC-10", "LLM-1", "LLM-3", "RES-2", "RES-3"],
    ),
];

/// `--exclude` and `--reason` for every load case but `keep`.
fn exclude_loads_but(keep: &[&str]) -> Vec<String> {
    harness::certify::cases::ALL
        .iter()
        .filter(|c| c.load().is_some() && !keep.contains(&c.id.as_str()))
        .flat_map(|c| {
            [
                "--exclude".to_owned(),
                c.id.clone(),
                "--reason".to_owned(),
                "defect test: this breach does not bear on it".to_owned(),
            ]
        })
        .collect()
}

/// Certifies the build with breach `defect`, running the load cases in `loads`; what
/// it got wrong, if anything.
fn judge(binary: &str, defect: &str, loads: &[&str], breaks: &[&str]) -> Option<String> {
    let dir = reports(&format!("certify-defect-{defect}"));
    let command = format!("SUT_DEFECT={defect} exec {binary}");
    let started = std::time::Instant::now();
    let mut args = vec!["--sut-cmd".to_owned(), command, "--quiet".to_owned()];
    args.extend(exclude_loads_but(loads));
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
    // The breaches that run no load case run side by side: their checks mostly wait on
    // the SUT's timers, and each run has its own environment and SUT. Those with a load
    // case run alone, so that the load has the machine to itself.
    let (alone, together): (Vec<_>, Vec<_>) =
        BREACHES.iter().partition(|(_, loads, _)| !loads.is_empty());
    let mut wrong: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = together
            .iter()
            .map(|&&(d, l, b)| s.spawn(move || judge(binary, d, l, b)))
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().expect("a breach's run panicked"))
            .collect()
    });
    for (defect, loads, breaks) in alone {
        wrong.extend(judge(binary, defect, loads, breaks));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
