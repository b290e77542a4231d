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
