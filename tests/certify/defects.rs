//! Broken implementations are caught: the reference built with its `defects` feature
//! (`sut-defects`, src/defect.rs in the sut crate), one deliberate breach at a time,
//! started with `--sut-cmd`. Each must fail exactly the clauses it breaks: not one
//! fewer (the breach is caught) and not one more (no clause is blamed for another's).

use crate::helpers::{certificate, certify, clauses_with, defects_binary, not_passed, reports};
use crate::support::{text, ONE_AT_A_TIME};

/// Each breach (its `SUT_DEFECT` name) and the clauses it breaks.
const BREACHES: [(&str, &[&str]); 6] = [
    // When no model answers, 503 instead of the template.
    ("no-template-fallback", &["CHAT-6", "CHAT-7"]),
    // Malformed JSON gets a 500.
    ("malformed-json-500", &["LIM-3", "LIM-4"]),
    // /health answers 200 while the database is down.
    ("health-ignores-db", &["HEALTH-1"]),
    // POST /api/chat takes a request without a token.
    ("chat-without-auth", &["AUTH-2"]),
    // Any caller reads any job.
    ("jobs-readable-by-anyone", &["DOC-9"]),
    // Once open, the breaker never lets a probe through: it never closes, a cancelled
    // probe cannot be followed by another, and queued jobs never complete.
    ("breaker-never-closes", &["DOC-10", "LLM-1", "LLM-3"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_implementations_fail_exactly_the_clauses_they_break() {
    let _one = ONE_AT_A_TIME.lock().await;
    let binary = defects_binary().display().to_string();
    let mut wrong = Vec::new();
    for (defect, breaks) in BREACHES {
        let dir = reports(&format!("certify-defect-{defect}"));
        let command = format!("SUT_DEFECT={defect} exec {binary}");
        let started = std::time::Instant::now();
        let out = certify(&dir, &["--sut-cmd", &command, "--quiet"]);
        let cert = certificate(&dir);
        let failed = clauses_with(&cert, "FAIL");
        eprintln!(
            "{defect}: exit {:?} in {:?}, failed {failed:?}",
            out.status.code(),
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(1), "{defect}: {}", text(&out));
        assert_eq!(cert["outcome"], "NOT_CERTIFIED", "{defect}");
        let errors = clauses_with(&cert, "ERROR");
        if failed != breaks || !errors.is_empty() {
            wrong.push(format!(
                "{defect}: failed {failed:?}, expected {breaks:?}; errors {errors:?}\n{}",
                not_passed(&cert)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
