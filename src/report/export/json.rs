//! JSON: the results as they are stored, for tools. The shape is described by a JSON
//! Schema committed at `fixtures/schema/results.schema.json` and generated from the types
//! in [`crate::results`], so the two cannot drift apart unnoticed (a test compares them).

use super::Exporter;
use crate::results::Results;

/// The JSON exporter.
pub struct Json;

impl Exporter<Results> for Json {
    fn file_name(&self) -> &'static str {
        "results.json"
    }

    fn render(&self, results: &Results) -> Vec<u8> {
        // Plain data with string keys: serialization cannot fail.
        let mut out = serde_json::to_vec_pretty(results).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

pub use crate::results::{compare_schema, schema};
