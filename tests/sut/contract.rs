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

/// Every test that CONTRACT.md names exists, and clause IDs are unique, so the
/// document cannot claim coverage that is not there.
#[test]
fn contract_md_names_only_real_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let doc = std::fs::read_to_string(format!("{root}/sut/CONTRACT.md")).expect("CONTRACT.md");
    let mut suite = String::new();
    for f in ["main.rs", "lifecycle.rs", "contract.rs", "defects.rs"] {
        suite += &std::fs::read_to_string(format!("{root}/tests/sut/{f}")).expect("suite");
    }
    let mut ids = std::collections::HashSet::new();
    let mut named = 0;
    for row in doc
        .lines()
        .filter(|l| l.starts_with("| ") && (l.contains(" MUST ") || l.contains(" SHOULD ")))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let id = cells[1];
        assert!(ids.insert(id.to_owned()), "clause {id} appears twice");
        let checked = cells[cells.len() - 2];
        for reference in checked.split(", ") {
            let reference = reference.trim_matches('`');
            if let Some(name) = reference.strip_prefix("sut::") {
                let name = name.rsplit("::").next().unwrap_or(name);
                assert!(
                    suite.contains(&format!("fn {name}()")),
                    "{id}: no test {reference}"
                );
                named += 1;
            } else if let Some(rest) = reference.strip_prefix("sut/src/") {
                let mut parts = rest.split("` `");
                let file = parts.next().unwrap_or("");
                let src = std::fs::read_to_string(format!("{root}/sut/src/{file}"))
                    .unwrap_or_else(|e| panic!("{id}: {file}: {e}"));
                if let Some(name) = parts.next() {
                    assert!(
                        src.contains(&format!("fn {name}()")),
                        "{id}: no test {name} in {file}"
                    );
                }
                named += 1;
            }
        }
    }
    assert!(ids.len() >= 30, "only {} clauses parsed", ids.len());
    assert!(named >= 30, "only {named} test references parsed");
}
