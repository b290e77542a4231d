//! Validates real responses against `sut/openapi.yaml`.

use serde_json::Value;

/// The OpenAPI document, as JSON.
pub fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sut/openapi.yaml"))
        .expect("openapi.yaml");
    serde_yaml::from_str(&text).expect("openapi.yaml parses")
}

/// Checks `body` against the schema of `method path` → `status`, with `$ref`s resolved
/// inside the document. Panics with every violation.
pub fn check(spec: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let mut response = spec["paths"][path][method]["responses"][status.to_string()].clone();
    assert!(
        !response.is_null(),
        "{method} {path} {status} is not in openapi.yaml"
    );
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        response = spec["components"]["responses"][name].clone();
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {status} has no JSON schema"
    );
    let mut root = schema.clone();
    if let Value::Object(m) = &mut root {
        m.insert("components".into(), spec["components"].clone());
    }
    let validator = jsonschema::validator_for(&root).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} violates openapi.yaml: {errors:?}\nbody: {body}"
    );
}

/// Every test that CONTRACT.md names exists, every clause in force names at least one
/// black-box test, and clause IDs are unique, so the document cannot claim coverage that
/// is not there.
#[test]
fn contract_md_names_only_real_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read =
        |path: String| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc = read(format!("{root}/sut/CONTRACT.md"));
    let mut suite = String::new();
    for f in [
        "main.rs",
        "lifecycle.rs",
        "contract.rs",
        "defects.rs",
        "llm.rs",
    ] {
        suite += &read(format!("{root}/tests/sut/{f}"));
    }
    let reference = read(format!("{root}/tests/reference/main.rs"));
    let mut ids = std::collections::HashSet::new();
    let mut black_box = 0;
    for row in doc
        .lines()
        .filter(|l| l.starts_with("| ") && (l.contains(" MUST ") || l.contains(" SHOULD ")))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let id = cells[1];
        assert!(ids.insert(id.to_owned()), "clause {id} appears twice");
        let checked = cells[cells.len() - 2];
        let mut outside = 0;
        for reference_text in checked.split(", ") {
            let r = reference_text.trim_matches('`');
            let r = r.split(" (").next().unwrap_or(r).trim_matches('`');
            if let Some(name) = r.strip_prefix("sut::") {
                let name = name.rsplit("::").next().unwrap_or(name);
                assert!(suite.contains(&format!("fn {name}()")), "{id}: no test {r}");
                outside += 1;
            } else if let Some(name) = r.strip_prefix("reference::") {
                assert!(
                    reference.contains(&format!("fn {name}()")),
                    "{id}: no test {r}"
                );
            } else if let Some(rest) = r.strip_prefix("sut/src/") {
                let mut parts = rest.split("` `");
                let file = parts.next().unwrap_or("");
                let src = read(format!("{root}/sut/src/{file}"));
                if let Some(name) = parts.next() {
                    assert!(
                        src.contains(&format!("fn {name}()")),
                        "{id}: no test {name} in {file}"
                    );
                }
            } else {
                panic!("{id}: '{r}' is not a test reference");
            }
        }
        assert!(outside > 0, "{id} has no black-box test");
        black_box += outside;
    }
    assert!(ids.len() >= 40, "only {} clauses parsed", ids.len());
    assert!(
        black_box >= 50,
        "only {black_box} black-box references parsed"
    );
}
