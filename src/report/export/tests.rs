//! Snapshots of the text formats from fixed results fixtures, the committed JSON Schema,
//! and the HTML page's structure.

use super::*;
use crate::results::Status;

/// A committed results fixture: `fixtures/results/NAME.json`.
pub(crate) fn fixture(name: &str) -> Results {
    let path = format!(
        "{}/fixtures/results/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("fixture parses")
}

fn text(e: &dyn Exporter<Results>, r: &Results) -> String {
    String::from_utf8(e.render(r)).expect("utf-8")
}

#[test]
fn junit_snapshot() {
    let xml = text(&junit::Junit, &fixture("chaos"));
    roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    insta::assert_snapshot!(xml);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(text(&markdown::Markdown, &fixture("chaos")));
}

#[test]
fn json_snapshot() {
    let r = fixture("chaos");
    let out = text(&json::Json, &r);
    let back: Results = serde_json::from_str(&out).expect("round trip");
    assert_eq!(back, r);
    insta::assert_snapshot!(out);
}

/// The smoke fixture as if run with `--budget request_handler.handle_request.p95=100ms`:
/// that limit tightened, the outcome and verdict rescored as a run would.
fn failing_smoke() -> Results {
    let mut r = fixture("smoke");
    let b = r
        .budgets
        .iter_mut()
        .find(|b| b.name == "request_handler.handle_request.p95")
        .expect("the end-to-end p95 budget");
    let measured = b.measured.expect("measured");
    b.limit = 100.0;
    b.margin = Some((b.limit - measured) / b.limit);
    b.status = if measured > b.limit {
        Status::Fail
    } else {
        Status::Pass
    };
    r.verdict = crate::scoring::verdict(&r.budgets, &[]);
    r.command.extend([
        "--budget".to_owned(),
        "request_handler.handle_request.p95=100ms".to_owned(),
    ]);
    r
}

#[test]
fn a_failed_budget_gives_measured_and_limit() {
    let r = failing_smoke();
    assert_eq!(r.verdict.failed, ["request_handler.handle_request.p95"]);
    let xml = text(&junit::Junit, &r);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    let case = failures[0].parent().expect("testcase");
    assert_eq!(
        case.attribute("name"),
        Some("request_handler.handle_request.p95")
    );
    assert_eq!(
        failures[0].attribute("message"),
        Some("measured 130.6 ms against a limit of 100.0 ms")
    );
    insta::assert_snapshot!("junit_failed", xml);
    let md = text(&markdown::Markdown, &r);
    assert!(md.starts_with("## harness: FAIL"), "{md}");
    insta::assert_snapshot!("markdown_failed", md);
}

#[test]
fn unknown_formats_are_none() {
    assert!(by_name("pdf").is_none());
    for f in FORMATS {
        assert!(by_name(f).is_some(), "{f}");
    }
}

mod schema {
    use super::*;

    /// The exported JSON validates against the committed schema; the schema's own tests
    /// are in the harness-results crate.
    #[test]
    fn a_comparison_validates_against_its_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/schema/compare.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("committed schema");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
        let v = jsonschema::validator_for(&schema).expect("schema compiles");
        let c = crate::scoring::compare::compare(
            ("a", &fixture("smoke")),
            ("b", &fixture("smoke-p95-plus-20")),
            crate::scoring::compare::Thresholds::default(),
        );
        let value = serde_json::to_value(&c).expect("JSON");
        let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!c.regressions.is_empty());
    }
}
