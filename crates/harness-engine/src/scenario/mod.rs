//! Scenarios as data (`scenarios/*.toml`): users, spawn rate, duration or iterations,
//! think time, a weighted transaction mix, the LLM latency profile, SUT settings,
//! budget overrides, and load profiles. Parsing reports the file and line; validation
//! names the field.

mod feeder;
mod profile;
mod stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::datafile::DataFileError;
use crate::faults::Fault;
use crate::units::serde_duration;

pub use feeder::{Feeder, FeederSpec, Strategy};
pub use profile::{Arrival, Model, Profile, Stage};
pub use stream::StreamSpec;

/// A scenario file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, e.g. `seed-mix`.
    pub name: String,
    /// What it models and where that comes from.
    #[serde(default)]
    pub description: String,
    /// Think time between a user's transactions.
    #[serde(default)]
    pub think_time: ThinkTime,
    /// Roles in the users' tokens.
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
    /// LLM fake latency profile (fixtures/llm_profiles.toml), or `instant`.
    #[serde(default = "default_llm_profile")]
    pub llm_profile: String,
    /// How long one request may take before it counts as a transport error.
    #[serde(
        default = "default_request_timeout",
        deserialize_with = "serde_duration::required"
    )]
    pub request_timeout: Duration,
    /// Extra environment for the SUT (`SUT_*` overrides).
    #[serde(default)]
    pub sut_env: BTreeMap<String, String>,
    /// Budget limit overrides, by budget name, e.g. `"load.error_rate" = "2%"`.
    #[serde(default)]
    pub budgets: BTreeMap<String, String>,
    /// The weighted transaction mix.
    pub transactions: Vec<TransactionSpec>,
    /// Load profiles by name: smoke, ci, full, soak.
    pub profiles: BTreeMap<String, Profile>,
    /// A fault timeline for `harness chaos`.
    #[serde(default)]
    pub chaos: Option<ChaosSection>,
    /// The SUT's seed data, relative to the fixtures directory [default: `seed.json`].
    #[serde(default)]
    pub seed: Option<String>,
    /// Rows that fill `{column}` placeholders in paths and bodies.
    #[serde(default)]
    pub feeder: Option<FeederSpec>,
}

/// `[chaos]`: phase lengths and the faults of the fault phase, written as the flags
/// are, without dashes (`"llm-fail 1.0"`, `"bandwidth 8 on db"`). Flags override it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosSection {
    /// Before the faults.
    #[serde(default, deserialize_with = "serde_duration::optional")]
    pub baseline: Option<Duration>,
    /// While the faults are in place.
    #[serde(default, deserialize_with = "serde_duration::optional")]
    pub fault: Option<Duration>,
    /// After the faults are removed.
    #[serde(default, deserialize_with = "serde_duration::optional")]
    pub recovery: Option<Duration>,
    /// The faults, parsed as the fault specs they are written as.
    #[serde(default, deserialize_with = "faults_from_text")]
    pub faults: Vec<Fault>,
}

/// Minimum and maximum think time; each wait is uniform in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinkTime {
    /// Shortest wait.
    #[serde(deserialize_with = "serde_duration::required")]
    pub min: Duration,
    /// Longest wait.
    #[serde(deserialize_with = "serde_duration::required")]
    pub max: Duration,
}

/// One transaction of the mix: an HTTP request, optionally followed by polling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionSpec {
    /// Name in results, e.g. `simple_query`.
    pub name: String,
    /// Relative frequency (> 0).
    pub weight: u32,
    /// GET or POST.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path on the SUT, e.g. `/api/chat`; placeholders as in `body`.
    pub path: String,
    /// JSON body. String values may use `{user}` (the user's number), `{n}` (this
    /// user's iteration) and `{column}` for each column of the scenario's feeder.
    #[serde(default)]
    pub body: Option<toml::Value>,
    /// Poll a job until it finishes; the transaction's time includes the polling.
    #[serde(default)]
    pub poll: Option<PollSpec>,
    /// The answer is a stream of Server-Sent Events, timed token by token:
    /// `stream = true`, or a table naming its events (see [`StreamSpec`]).
    #[serde(default, deserialize_with = "stream::from_written")]
    pub stream: Option<StreamSpec>,
}

/// Polling after a submission: `GET path` (with `{job_id}` from the first response)
/// until `field` takes one of `until`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSpec {
    /// e.g. `/api/v1/jobs/{job_id}`.
    pub path: String,
    /// The field of the first response that fills `{job_id}`.
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// The field to watch, e.g. `status`.
    pub field: String,
    /// Values that end polling, e.g. `["completed", "failed"]`.
    pub until: Vec<String>,
    /// Of those, values that count as a failed transaction.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Time between polls.
    #[serde(
        default = "default_poll_every",
        deserialize_with = "serde_duration::required"
    )]
    pub every: Duration,
    /// Give up after this long (the transaction then counts as an error).
    #[serde(
        default = "default_poll_timeout",
        deserialize_with = "serde_duration::required"
    )]
    pub timeout: Duration,
}

fn default_roles() -> Vec<String> {
    vec!["processor".into()]
}
fn default_llm_profile() -> String {
    "fast".into()
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_method() -> String {
    "POST".into()
}
fn default_id_field() -> String {
    "job_id".into()
}
fn default_poll_every() -> Duration {
    Duration::from_millis(500)
}
fn default_poll_timeout() -> Duration {
    Duration::from_secs(60)
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read, does not parse, or is inconsistent.
    #[error(transparent)]
    File(#[from] DataFileError),
    /// A name that matches no file.
    #[error("no {dir}/{name}.toml (available: {available})")]
    Unknown {
        /// The name given.
        name: String,
        /// Where we looked.
        dir: String,
        /// What exists.
        available: String,
    },
}

/// A profile name the scenario does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario '{scenario}' has no such profile (it has: {have})")]
pub struct NoProfile {
    /// The scenario.
    pub scenario: String,
    /// The profiles it has.
    pub have: String,
}

fn faults_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Fault>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|f| {
            f.parse()
                .map_err(|e| serde::de::Error::custom(format!("'{f}': {e}")))
        })
        .collect()
}

impl Scenario {
    /// Resolves `--scenario` (a name in `dir` or a path to a file) and loads it.
    pub fn find(name_or_path: &str, dir: &Path) -> Result<(Self, PathBuf), ScenarioError> {
        let as_path = Path::new(name_or_path);
        let path = if name_or_path.ends_with(".toml") || as_path.components().count() > 1 {
            as_path.to_owned()
        } else {
            let p = dir.join(format!("{name_or_path}.toml"));
            if !p.exists() {
                let mut available: Vec<String> = std::fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.strip_suffix(".toml").map(str::to_owned)
                    })
                    .collect();
                available.sort();
                return Err(ScenarioError::Unknown {
                    name: name_or_path.into(),
                    dir: dir.display().to_string(),
                    available: available.join(", "),
                });
            }
            p
        };
        Ok((Self::load(&path)?, path))
    }

    /// Reads, parses and validates one file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses and validates `text`; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| DataFileError::toml(path, text, &e))?;
        s.validate(path)?;
        Ok(s)
    }

    fn validate(&self, path: &Path) -> Result<(), DataFileError> {
        let invalid = |field: String, message: &str| DataFileError::invalid(path, field, message);
        if self.think_time.min > self.think_time.max {
            return Err(invalid("think_time".into(), "min is larger than max"));
        }
        if self.transactions.is_empty() {
            return Err(invalid("transactions".into(), "at least one is needed"));
        }
        for (i, t) in self.transactions.iter().enumerate() {
            let f = |name: &str| format!("transactions[{i}] ({}).{name}", t.name);
            if t.weight == 0 {
                return Err(invalid(f("weight"), "must be at least 1"));
            }
            if !matches!(t.method.as_str(), "GET" | "POST") {
                return Err(invalid(f("method"), "must be GET or POST"));
            }
            if !t.path.starts_with('/') {
                return Err(invalid(f("path"), "must start with /"));
            }
            if t.poll.is_some() && t.stream.is_some() {
                return Err(invalid(f("stream"), "a polled transaction cannot stream"));
            }
            if let Some(p) = &t.poll {
                if p.until.is_empty() {
                    return Err(invalid(f("poll.until"), "at least one value is needed"));
                }
            }
        }
        if self.profiles.is_empty() {
            return Err(invalid("profiles".into(), "at least one is needed"));
        }
        for (name, p) in &self.profiles {
            p.validate()
                .map_err(|(field, m)| invalid(format!("profiles.{name}.{field}"), &m))?;
        }
        Ok(())
    }

    /// Every `{name}` placeholder in a transaction's path or body that is neither
    /// `{user}`, `{n}` nor one of `columns`: (field, placeholder).
    pub fn unbound(&self, columns: &[String]) -> Vec<(String, String)> {
        fn strings<'a>(v: &'a toml::Value, out: &mut Vec<&'a str>) {
            match v {
                toml::Value::String(s) => out.push(s),
                toml::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                toml::Value::Table(t) => t.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (i, t) in self.transactions.iter().enumerate() {
            let mut texts = vec![("path", t.path.as_str())];
            if let Some(b) = &t.body {
                let mut found = Vec::new();
                strings(b, &mut found);
                texts.extend(found.into_iter().map(|s| ("body", s)));
            }
            for (field, text) in texts {
                for name in placeholders(text) {
                    if name != "user" && name != "n" && !columns.iter().any(|c| c == name) {
                        out.push((
                            format!("transactions[{i}] ({}).{field}", t.name),
                            name.to_owned(),
                        ));
                    }
                }
            }
        }
        out
    }

    /// The named profile, or an error listing the ones this scenario has.
    pub fn profile(&self, name: &str) -> Result<&Profile, NoProfile> {
        self.profiles.get(name).ok_or_else(|| NoProfile {
            scenario: self.name.clone(),
            have: self
                .profiles
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// The `{name}` placeholders in `text` (names of letters, digits and `_`).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_') =>
            {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests;
