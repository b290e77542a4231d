//! Checks real answers against the contract's `sut/openapi.yaml` (built in).

use serde_json::Value;

use super::check::{CaseError, Or};

const SPEC: &str = include_str!("../../../../sut/openapi.yaml");

/// The OpenAPI document, as JSON.
pub fn spec() -> Result<Value, CaseError> {
    serde_yaml::from_str(SPEC).or_error("openapi.yaml")
}

/// [`check`], charging a mismatch to `clause` and going on (see `check!`); only the
/// harness's own trouble (a schema that does not compile) ends the case.
pub fn check_as(
    ctx: &super::Ctx,
    clause: &'static str,
    spec: &Value,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<(), CaseError> {
    match check(clause, spec, method, path, status, body) {
        Err(CaseError::Fail { why, .. }) => {
            ctx.broke(clause, why);
            Ok(())
        }
        other => other,
    }
}

/// Fails (charged to `clause`) unless `body` matches the schema of `method path` →
/// `status`, with `$ref`s resolved inside the document; the failure lists every
/// violation.
pub fn check(
    clause: &'static str,
    spec: &Value,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<(), CaseError> {
    let mut response = spec["paths"][path][method]["responses"][status.to_string()].clone();
    if response.is_null() {
        return Err(CaseError::fail(
            clause,
            format!("{method} {path} answered {status}, which openapi.yaml does not list"),
        ));
    }
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        response = spec["components"]["responses"][name].clone();
    }
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Err(CaseError::Error(format!(
            "{method} {path} {status} has no JSON schema in openapi.yaml"
        )));
    }
    let mut root = schema.clone();
    if let Value::Object(m) = &mut root {
        m.insert("components".into(), spec["components"].clone());
    }
    let validator = jsonschema::validator_for(&root).or_error("the schema compiles")?;
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CaseError::fail(
            clause,
            format!("{method} {path} {status} violates openapi.yaml: {errors:?}; body: {body}"),
        ))
    }
}
