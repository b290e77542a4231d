//! `fixtures/budgets.toml`: every budget in the seeds, with its source, and the
//! overrides from scenarios and `--budget NAME=VALUE`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::datafile::DataFileError;

/// What a budget measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A percentile of one `Server-Timing` operation.
    Operation,
    /// An end-to-end percentile per load stage whose user count is in `users`.
    Load,
    /// Errors over transactions.
    ErrorRate,
    /// Mean end-to-end latency.
    Mean,
    /// An end-to-end percentile over the whole scored window.
    Overall,
    /// A percentile of one stream metric over the scored window:
    /// `stream.{ttft,itl,tpot,e2e}.pNN`. The seeds state none; `--budget` or a
    /// scenario's `[budgets]` declares one by naming it.
    Stream,
}

/// A limit that does not parse as its kind expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// An error-rate limit that is not a number or percentage.
    #[error("'{0}' is not a rate (write e.g. \"1%\" or \"0.01\")")]
    NotARate(String),
    /// An error-rate limit outside 0–100%.
    #[error("'{0}' is outside 0%..100%")]
    OutOfRange(String),
    /// A latency limit that is not a duration.
    #[error(transparent)]
    Duration(crate::units::ValueError),
}

/// A budget's limit: a latency or a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// At most this long.
    Latency(Duration),
    /// At most this fraction (0–1).
    Ratio(f64),
}

impl Limit {
    /// Parses `"150ms"`, `"5s"`, `"1%"` or `"0.01"`, as `kind` expects.
    pub fn parse(kind: Kind, text: &str) -> Result<Self, LimitError> {
        let t = text.trim();
        match kind {
            Kind::ErrorRate => {
                let v = if t.ends_with('%') {
                    crate::units::percent(t).ok()
                } else {
                    t.parse::<f64>().ok()
                }
                .ok_or_else(|| LimitError::NotARate(t.to_owned()))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(LimitError::OutOfRange(t.to_owned()));
                }
                Ok(Limit::Ratio(v))
            }
            _ => crate::units::duration_or_zero(t)
                .map(Limit::Latency)
                .map_err(LimitError::Duration),
        }
    }
}

/// One budget, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Stable name, e.g. `entity_resolver.resolve.p95`.
    pub name: String,
    /// What it measures.
    pub kind: Kind,
    /// The limit in force (after overrides).
    pub limit: Limit,
    /// Where the seeds state it.
    pub seed: String,
    /// For `load`: the user range of stages it applies to.
    pub users: Option<(u32, u32)>,
    /// Where the limit came from when overridden.
    pub overridden_by: Option<String>,
}

impl Budget {
    /// The operation of an `operation` budget: the name without its `.pNN`.
    pub fn operation(&self) -> &str {
        self.name.rsplit_once('.').map_or(&self.name, |(op, _)| op)
    }

    /// The percentile in the name (`.p95` → 95), for latency kinds.
    pub fn percentile(&self) -> Option<f64> {
        let (_, suffix) = self.name.rsplit_once('.')?;
        suffix.strip_prefix('p')?.parse().ok()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    budget: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    kind: Kind,
    limit: String,
    seed: String,
    #[serde(default)]
    users: Option<(u32, u32)>,
}

/// Budgets that cannot be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// The budgets file cannot be read, does not parse, or is inconsistent.
    #[error(transparent)]
    File(#[from] DataFileError),
    /// An override names no budget.
    #[error("{origin}: no budget named '{name}' ({hint})")]
    Unknown {
        /// `--budget` or the scenario file's `[budgets]`.
        origin: String,
        /// The name given.
        name: String,
        /// Names that are close, or where to look.
        hint: String,
    },
    /// An override's value does not parse.
    #[error("{origin}: {name}")]
    Value {
        /// `--budget` or the scenario file's `[budgets]`.
        origin: String,
        /// The budget.
        name: String,
        /// What is wrong with the value.
        #[source]
        source: LimitError,
    },
}

/// A `--budget` argument that is not `NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}': expected NAME=VALUE, e.g. request_handler.handle_request.p95=2s")]
pub struct OverrideSyntax(pub String);

/// Reads and checks a budgets file.
pub fn load(path: &Path) -> Result<Vec<Budget>, BudgetError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
    Ok(parse(&text, path)?)
}

/// Parses a budgets file; `path` is for messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Budget>, DataFileError> {
    let file: File = toml::from_str(text).map_err(|e| DataFileError::toml(path, text, &e))?;
    let mut out: Vec<Budget> = Vec::new();
    for e in file.budget {
        let field = format!("budget {}", e.name);
        let bad = |m: String| DataFileError::invalid(path, field.clone(), m);
        let limit = Limit::parse(e.kind, &e.limit).map_err(|m| bad(format!("limit {m}")))?;
        let b = Budget {
            name: e.name,
            kind: e.kind,
            limit,
            seed: e.seed,
            users: e.users,
            overridden_by: None,
        };
        if out.iter().any(|o| o.name == b.name) {
            return Err(bad("defined twice".into()));
        }
        let needs_pct = matches!(
            b.kind,
            Kind::Operation | Kind::Load | Kind::Overall | Kind::Stream
        );
        if needs_pct && b.percentile().is_none_or(|p| !(0.0..=100.0).contains(&p)) {
            return Err(bad(format!(
                "a {:?} budget's name must end in .pNN",
                b.kind
            )));
        }
        if b.kind == Kind::Load && b.users.is_none() {
            return Err(bad("a load budget needs users = [min, max]".into()));
        }
        out.push(b);
    }
    Ok(out)
}

/// The stream metrics a `stream.*` budget can name.
pub const STREAM_METRICS: [&str; 4] = ["ttft", "itl", "tpot", "e2e"];

/// The budget `stream.METRIC.pNN` names, with no limit yet; `None` for any other name.
fn stream_budget(name: &str) -> Option<Budget> {
    let rest = name.strip_prefix("stream.")?;
    let (metric, pct) = rest.split_once('.')?;
    let q: f64 = pct.strip_prefix('p')?.parse().ok()?;
    (STREAM_METRICS.contains(&metric) && (0.0..=100.0).contains(&q)).then(|| Budget {
        name: name.to_owned(),
        kind: Kind::Stream,
        limit: Limit::Latency(Duration::ZERO),
        seed: "not in the seeds: declared by this run".to_owned(),
        users: None,
        overridden_by: None,
    })
}

/// Applies `NAME=VALUE` (or a scenario's `NAME = "VALUE"`) to `budgets`; a
/// `stream.METRIC.pNN` not yet among them is declared.
pub fn apply_override(
    budgets: &mut Vec<Budget>,
    name: &str,
    value: &str,
    origin: &str,
) -> Result<(), BudgetError> {
    if !budgets.iter().any(|b| b.name == name) {
        budgets.extend(stream_budget(name));
    }
    let Some(b) = budgets.iter_mut().find(|b| b.name == name) else {
        let mut near: Vec<&str> = budgets
            .iter()
            .map(|b| b.name.as_str())
            .filter(|n| n.split('.').next() == name.split('.').next())
            .collect();
        near.truncate(6);
        let hint = if name.starts_with("stream.") {
            format!(
                "a stream budget is stream.METRIC.pNN, METRIC one of {}",
                STREAM_METRICS.join(", ")
            )
        } else if near.is_empty() {
            "see fixtures/budgets.toml".to_owned()
        } else {
            format!("did you mean one of: {}", near.join(", "))
        };
        return Err(BudgetError::Unknown {
            origin: origin.to_owned(),
            name: name.to_owned(),
            hint,
        });
    };
    b.limit = Limit::parse(b.kind, value).map_err(|source| BudgetError::Value {
        origin: origin.to_owned(),
        name: name.to_owned(),
        source,
    })?;
    b.overridden_by = Some(origin.to_owned());
    Ok(())
}

/// Splits `--budget NAME=VALUE`.
pub fn split_override(arg: &str) -> Result<(&str, &str), OverrideSyntax> {
    match arg.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => Ok((n.trim(), v.trim())),
        _ => Err(OverrideSyntax(arg.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Budget> {
        let path =
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures/budgets.toml");
        load(&path).expect("shipped budgets parse")
    }

    #[test]
    fn the_shipped_file_has_every_seed_budget() {
        let b = shipped();
        // 7 operations × 3 percentiles, 3 load targets, 3 alert thresholds.
        assert_eq!(b.len(), 27);
        let p95 = b
            .iter()
            .find(|b| b.name == "entity_resolver.resolve.p95")
            .expect("budget");
        assert_eq!(p95.limit, Limit::Latency(Duration::from_millis(150)));
        assert_eq!(p95.operation(), "entity_resolver.resolve");
        assert_eq!(p95.percentile(), Some(95.0));
        assert!(b.iter().all(|b| !b.seed.is_empty()));
    }

    #[test]
    fn overrides_name_the_budget_and_check_the_value() {
        let mut b = shipped();
        apply_override(&mut b, "load.error_rate", "2%", "--budget").expect("ok");
        let e = b
            .iter()
            .find(|b| b.name == "load.error_rate")
            .expect("budget");
        assert_eq!(e.limit, Limit::Ratio(0.02));
        let unknown = apply_override(&mut b, "entity_resolver.resolv.p95", "1ms", "--budget");
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("entity_resolver.resolve.p95"));
        let bad = apply_override(&mut b, "load.error_rate", "5ms", "--budget");
        assert!(bad.is_err());
        apply_override(&mut b, "stream.ttft.p95", "500ms", "--budget").expect("declared");
        let ttft = b
            .iter()
            .find(|b| b.name == "stream.ttft.p95")
            .expect("there");
        assert_eq!(
            (ttft.kind, ttft.limit, ttft.operation(), ttft.percentile()),
            (
                Kind::Stream,
                Limit::Latency(Duration::from_millis(500)),
                "stream.ttft",
                Some(95.0)
            )
        );
        let wrong = apply_override(&mut b, "stream.ttfb.p95", "1s", "--budget")
            .expect_err("no such metric")
            .to_string();
        assert!(wrong.contains("ttft, itl, tpot, e2e"), "{wrong}");
        let bad = bad.unwrap_err();
        let why = std::error::Error::source(&bad).map(ToString::to_string);
        assert!(why.is_some_and(|w| w.contains("not a rate")), "{bad}");
        assert!(split_override("x").is_err());
        assert_eq!(split_override("a.p95=1ms"), Ok(("a.p95", "1ms")));
    }

    #[test]
    fn malformed_files_name_the_line_or_budget() {
        let e = parse(
            "[[budget]]\nname = \"x.p95\"\nkind = \"operation\"\nlimit = 5\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("b.toml:4: "), "{e}");
        let e = parse(
            "[[budget]]\nname = \"x\"\nkind = \"operation\"\nlimit = \"5ms\"\nseed = \"s\"\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(".pNN"), "{e}");
    }
}
