//! `harness report` and `harness compare` on committed results fixtures.

use std::path::Path;

use crate::helpers::{harness, run};

const SMOKE: &str = "fixtures/results/smoke.json";
const REGRESSED: &str = "fixtures/results/smoke-p95-plus-20.json";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn report_rerenders_every_format_from_saved_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = harness();
    c.args(["report", "fixtures/results/chaos.json", "--out"])
        .arg(dir.path());
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["report.html", "junit.xml", "summary.md", "results.json"] {
        let path = dir.path().join(f);
        assert!(
            stdout(&out).contains(&path.display().to_string()),
            "{f} listed"
        );
        assert!(
            std::fs::metadata(&path)
                .map(|m| m.len() > 500)
                .unwrap_or(false),
            "{f} written"
        );
    }
}

#[test]
fn report_writes_only_the_formats_asked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = harness();
    c.args([
        "report",
        "fixtures/results/smoke.json",
        "--format",
        "junit,md",
        "--out",
    ])
    .arg(dir.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["junit.xml", "summary.md"]);
}

fn one_line_exit_2(out: &std::process::Output, names: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(names), "{err} does not name {names}");
    // Each cause said once, not once by the error and again by its source.
    for part in err.split(": ") {
        let part = part.trim();
        if part.len() > 8 {
            assert_eq!(err.matches(part).count(), 1, "{err} repeats {part}");
        }
    }
}

#[test]
fn report_bad_input_names_the_flag_or_file() {
    let mut c = harness();
    c.args(["report", SMOKE, "--format", "html,pdf", "--out", "/tmp"]);
    one_line_exit_2(&run(c), "--format");
    let mut c = harness();
    c.args(["report", "Cargo.toml", "--out", "/tmp"]);
    one_line_exit_2(&run(c), "Cargo.toml:1: not a harness results file");
    let mut c = harness();
    c.args(["report", "no/such.json"]);
    one_line_exit_2(&run(c), "no/such.json");
    let mut c = harness();
    c.args(["report", SMOKE, "--out", "/proc/no-reports-here"]);
    one_line_exit_2(&run(c), "/proc/no-reports-here");
}

#[test]
fn compare_exits_1_and_names_a_20_percent_p95_regression() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = harness();
    c.args([
        "compare",
        SMOKE,
        REGRESSED,
        "--max-regression",
        "10%",
        "--out",
    ])
    .arg(dir.path());
    let out = run(c);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let last = text.lines().last().unwrap_or_default();
    for name in [
        "request_handler.handle_request.p95",
        "response_generator.generate.p95",
        "load.100_users.p95",
    ] {
        assert!(last.contains(name), "the verdict line names {name}: {last}");
    }
    // Under a millisecond is noise, whatever the percentage.
    assert!(!last.contains("entity_resolver.resolve.p95"), "{last}");
    assert!(text.contains("+20.0%"), "{text}");
    let md = std::fs::read_to_string(dir.path().join("compare.md")).expect("compare.md");
    assert!(md.contains("**REGRESSED**"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("compare.json")).expect("json"))
            .expect("compare.json parses");
    assert_eq!(json["exit_code"], 1);
    assert!(json["regressions"]
        .as_array()
        .is_some_and(|r| r.iter().any(|n| n == "request_handler.handle_request.p95")));
}

#[test]
fn compare_passes_within_the_threshold_and_on_itself() {
    let mut c = harness();
    c.args(["compare", SMOKE, REGRESSED, "--max-regression", "25%"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let mut c = harness();
    c.args(["compare", SMOKE, SMOKE]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("no regression beyond 10%"));
}

#[test]
fn compare_warns_when_the_runs_are_not_like_for_like() {
    let mut c = harness();
    c.args(["compare", SMOKE, "fixtures/results/chaos.json", "--json"]);
    let out = run(c);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let warnings = json["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w == "different scenario: smoke in base, chaos-fast in new"),
        "{warnings:?}"
    );
    let mut c = harness();
    c.args(["compare", SMOKE, "fixtures/results/chaos.json"]);
    let text = stdout(&run(c));
    assert!(
        text.contains("warning: different scenario: smoke in base, chaos-fast in new"),
        "{text}"
    );
}

#[test]
fn compare_bad_input_names_the_flag_or_file() {
    let mut c = harness();
    c.args(["compare", SMOKE, REGRESSED, "--max-regression", "10"]);
    one_line_exit_2(&run(c), "--max-regression");
    let mut c = harness();
    c.args(["compare", SMOKE, REGRESSED, "--min-delta", "soon"]);
    one_line_exit_2(&run(c), "--min-delta");
    let mut c = harness();
    c.args(["compare", SMOKE, "missing.json"]);
    one_line_exit_2(&run(c), "missing.json");
    assert!(
        Path::new(SMOKE).exists() || Path::new(env!("CARGO_MANIFEST_DIR")).join(SMOKE).exists()
    );
}
