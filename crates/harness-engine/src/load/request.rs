//! What both executors share about one transaction: the body sent (placeholders
//! filled), what a sample takes from the answer, and when polling is over.

use serde_json::Value;

use crate::record::{parse_server_timing, Sample};
use crate::scenario::PollSpec;

/// What fills the placeholders of one transaction: `{user}`, `{n}` and the feeder
/// row's columns.
pub struct Vars<'a> {
    /// The user's number.
    pub user: usize,
    /// The user's iteration.
    pub n: u64,
    /// The feeder row, as (column, value).
    pub row: Vec<(&'a str, &'a str)>,
}

impl Vars<'_> {
    /// `text` with every placeholder filled.
    pub fn apply(&self, text: &str) -> String {
        if !text.contains('{') {
            return text.to_owned();
        }
        let mut out = text
            .replace("{user}", &self.user.to_string())
            .replace("{n}", &self.n.to_string());
        for (col, value) in &self.row {
            out = out.replace(&format!("{{{col}}}"), value);
        }
        out
    }
}

/// Fills the placeholders in every string of `v`.
pub fn fill(v: &toml::Value, vars: &Vars<'_>) -> Value {
    match v {
        toml::Value::String(s) => Value::String(vars.apply(s)),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, x)| (k.clone(), fill(x, vars))).collect())
        }
    }
}

/// Takes the status, the `Server-Timing` operations and the body's contract fields
/// (`fallback`, `degraded`, `quality_score`, `sources`) into `sample`, and returns the
/// body as JSON (`Null` when it is not JSON).
pub fn read_answer(
    sample: &mut Sample,
    status: u16,
    server_timing: Option<&str>,
    body: &[u8],
) -> Value {
    sample.status = Some(status);
    if let Some(h) = server_timing {
        sample.operations = parse_server_timing(h);
    }
    // Only a JSON object has the contract's fields; anything else is not parsed (a
    // failed parse allocates its error, on every sample of a non-JSON target).
    let body: Value = if body.trim_ascii_start().first() == Some(&b'{') {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    sample.fallback = body
        .get("fallback")
        .and_then(Value::as_str)
        .map(str::to_owned);
    sample.degraded = body.get("degraded").and_then(Value::as_bool);
    sample.quality_score = body.get("quality_score").and_then(Value::as_f64);
    if let Some(Value::Array(sources)) = body.get("sources") {
        sample.sources = sources
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    body
}

/// 200 or 500 when `body`'s watched field holds a final value (500 for a failed one).
pub fn final_status(poll: &PollSpec, body: &Value) -> Option<u16> {
    let v = body.get(&poll.field).and_then(Value::as_str)?;
    poll.until.iter().any(|u| u == v).then(|| {
        if poll.failed.iter().any(|f| f == v) {
            500
        } else {
            200
        }
    })
}

/// The job path to poll, from the first answer; `None` when it has no id.
pub fn poll_path(poll: &PollSpec, first: &Value) -> Option<String> {
    let id = match first.get(&poll.id_field)? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(poll.path.replace("{job_id}", &id))
}
