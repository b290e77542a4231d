//! The committed JSON Schemas match the types, the results files that earlier releases
//! wrote still load, and the schema rejects what a reader would misread.

use harness_results::{
    compare_schema, schema, MatrixOutcome, PhaseName, Results, TargetKind, Unit,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

fn committed(name: &str) -> String {
    format!("{FIXTURES}/schema/{name}")
}

/// The committed schema is what the types say; `HARNESS_WRITE_SCHEMA=1` rewrites it.
fn check(path: &str, generated: serde_json::Value) {
    let pretty = serde_json::to_string_pretty(&generated).expect("schema") + "\n";
    if std::env::var_os("HARNESS_WRITE_SCHEMA").is_some() {
        std::fs::write(path, &pretty).expect("write schema");
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == pretty,
        "{path} is out of date with the types; run HARNESS_WRITE_SCHEMA=1 cargo test -p harness-results"
    );
}

fn fixture(name: &str) -> (Results, serde_json::Value) {
    let text = std::fs::read_to_string(format!("{FIXTURES}/results/{name}.json")).expect("fixture");
    let r: Results = serde_json::from_str(&text).expect("an earlier release's results load");
    let v = serde_json::from_str(&text).expect("JSON");
    (r, v)
}

/// Whether `outer` holds everything `inner` does, value for value.
fn contains(outer: &serde_json::Value, inner: &serde_json::Value) -> bool {
    match (outer, inner) {
        (serde_json::Value::Object(o), serde_json::Value::Object(i)) => i
            .iter()
            .all(|(k, v)| o.get(k).is_some_and(|ov| contains(ov, v))),
        (serde_json::Value::Array(o), serde_json::Value::Array(i)) => {
            o.len() == i.len() && o.iter().zip(i).all(|(a, b)| contains(a, b))
        }
        (o, i) => o == i,
    }
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(committed("results.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn committed_schemas_are_current() {
    check(&committed("results.schema.json"), schema());
    check(&committed("compare.schema.json"), compare_schema());
    check(
        &committed("capacity.schema.json"),
        harness_results::capacity_schema(),
    );
    check(
        &committed("certificate.schema.json"),
        harness_results::certificate_schema(),
    );
    check(
        &committed("gate.schema.json"),
        harness_results::gate_schema(),
    );
}

#[test]
fn earlier_results_load_validate_and_write_back_the_same_text() {
    let v = validator();
    for name in ["chaos", "smoke", "smoke-p95-plus-20"] {
        let (r, as_written) = fixture(name);
        let again = serde_json::to_value(&r).expect("JSON");
        // Fields added since (with serde defaults) may appear; nothing written may change.
        assert!(
            contains(&again, &as_written),
            "{name}: the JSON text changed"
        );
        let errors: Vec<String> = v.iter_errors(&again).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    let (chaos, _) = fixture("chaos");
    let names: Vec<PhaseName> = chaos.phases.iter().map(|p| p.name).collect();
    assert_eq!(names, PhaseName::ALL);
    assert_eq!(chaos.target.kind, TargetKind::Reference);
    assert!(chaos.budgets.iter().any(|b| b.unit == Unit::S));
}

#[test]
fn the_schema_rejects_what_readers_would_misread() {
    let v = validator();
    let (_, good) = fixture("smoke");
    let mut missing = good.clone();
    missing.as_object_mut().expect("object").remove("verdict");
    assert!(!v.is_valid(&missing));
    let mut wrong = good.clone();
    wrong["totals"]["requests"] = serde_json::json!("many");
    assert!(!v.is_valid(&wrong));
    let mut status = good.clone();
    status["budgets"][0]["status"] = serde_json::json!("maybe");
    assert!(!v.is_valid(&status));
    let mut unit = good;
    unit["budgets"][0]["unit"] = serde_json::json!("furlongs");
    assert!(!v.is_valid(&unit));
    assert!(serde_json::from_value::<MatrixOutcome>(serde_json::json!("maybe")).is_err());
}
