//! Alerts under chaos against a deliberate breach of a metric the rules read: the
//! service degrades as it should, so only the alert lines fail, and the run says so
//! with its own exit code. The certify suite catches each such breach as a broken
//! clause (ALERT-1 to ALERT-3, RES-4); this proves the chaos command's side, exit 3.

use crate::helpers::{harness_chaos, outcome, results, text, ONE_AT_A_TIME};
use crate::support::defects_binary;

/// Runs `sut-defects` with `defect` under `fault` (chaos-fast's phases) and returns the
/// exit code, the verdict's failed lines and the results.
async fn breach(defect: &str, fault: &[&str]) -> (Option<i32>, Vec<String>, serde_json::Value) {
    let _one = ONE_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().expect("tempdir");
    let cmd = format!("SUT_DEFECT={defect} exec {}", defects_binary().display());
    let mut args = vec!["--scenario", "chaos-fast", "--sut-cmd", &cmd];
    args.extend_from_slice(fault);
    let out = harness_chaos("native", &args, reports.path()).await;
    let shown = text(&out);
    let r = results(reports.path());
    let failed: Vec<String> = r["verdict"]["failed"]
        .as_array()
        .unwrap_or_else(|| panic!("no verdict: {shown}"))
        .iter()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    (out.status.code(), failed, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_metric_that_never_moves_misses_its_page_and_nothing_else() {
    let (code, failed, r) = breach("breaker-metric-stuck", &["--llm-fail", "1.0"]).await;
    assert_eq!(
        failed,
        ["alerts.LlmCircuitBreakerOpen.detect_s"],
        "{}",
        r["budgets"]
    );
    assert_eq!(code, Some(3), "alerts alone failed: exit 3");
    let line = outcome(&r, "alerts.LlmCircuitBreakerOpen.detect_s");
    assert!(
        line["detail"].as_str().unwrap_or("").contains("missed"),
        "{line}"
    );
    // The service itself degraded as documented: the breaker did open.
    assert_eq!(
        outcome(&r, "chaos.llm.breaker_stops_calls")["status"],
        "pass"
    );
}
