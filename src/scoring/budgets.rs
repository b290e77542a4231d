//! `fixtures/budgets.toml`: every budget in the seeds, with its source, and the
//! overrides from scenarios and `--budget NAME=VALUE`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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
    pub fn parse(kind: Kind, text: &str) -> Result<Self, String> {
        let t = text.trim();
        match kind {
            Kind::ErrorRate => {
                let v = match t.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
                    None => t.parse::<f64>(),
                }
                .map_err(|_| format!("'{t}' is not a rate (write e.g. \"1%\" or \"0.01\")"))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("'{t}' is outside 0%..100%"));
                }
                Ok(Limit::Ratio(v))
            }
            _ => humantime::parse_duration(t)
                .map(Limit::Latency)
                .map_err(|e| format!("'{t}' is not a duration: {e} (write e.g. \"150ms\")")),
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
    /// The file is missing or unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is malformed; the message names the line, or the budget.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An override names no budget, or has a bad value.
    #[error("{origin}: {message}")]
    Override {
        /// `--budget` or the scenario file.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks a budgets file.
pub fn load(path: &Path) -> Result<Vec<Budget>, BudgetError> {
    let text = std::fs::read_to_string(path).map_err(|source| BudgetError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses a budgets file; `path` is for messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Budget>, BudgetError> {
    let bad = |message: String| BudgetError::Parse {
        path: path.to_owned(),
        message,
    };
    let file: File = toml::from_str(text).map_err(|e| bad(e.to_string().trim_end().to_owned()))?;
    let mut out: Vec<Budget> = Vec::new();
    for e in file.budget {
        let limit =
            Limit::parse(e.kind, &e.limit).map_err(|m| bad(format!("{}: limit {m}", e.name)))?;
        let b = Budget {
            name: e.name,
            kind: e.kind,
            limit,
            seed: e.seed,
            users: e.users,
            overridden_by: None,
        };
        if out.iter().any(|o| o.name == b.name) {
            return Err(bad(format!("{}: defined twice", b.name)));
        }
        let needs_pct = matches!(b.kind, Kind::Operation | Kind::Load | Kind::Overall);
        if needs_pct && b.percentile().is_none_or(|p| !(0.0..=100.0).contains(&p)) {
            return Err(bad(format!(
                "{}: a {:?} budget's name must end in .pNN",
                b.name, b.kind
            )));
        }
        if b.kind == Kind::Load && b.users.is_none() {
            return Err(bad(format!(
                "{}: a load budget needs users = [min, max]",
                b.name
            )));
        }
        out.push(b);
    }
    Ok(out)
}

/// Applies `NAME=VALUE` (or a scenario's `NAME = "VALUE"`) to `budgets`.
pub fn apply_override(
    budgets: &mut [Budget],
    name: &str,
    value: &str,
    origin: &str,
) -> Result<(), BudgetError> {
    let err = |message: String| BudgetError::Override {
        origin: origin.to_owned(),
        message,
    };
    let Some(b) = budgets.iter_mut().find(|b| b.name == name) else {
        let mut near: Vec<&str> = budgets
            .iter()
            .map(|b| b.name.as_str())
            .filter(|n| n.split('.').next() == name.split('.').next())
            .collect();
        near.truncate(6);
        let hint = if near.is_empty() {
            "see fixtures/budgets.toml".to_owned()
        } else {
            format!("did you mean one of: {}", near.join(", "))
        };
        return Err(err(format!("no budget named '{name}' ({hint})")));
    };
    b.limit = Limit::parse(b.kind, value).map_err(|m| err(format!("{name}: {m}")))?;
    b.overridden_by = Some(origin.to_owned());
    Ok(())
}

/// Splits `--budget NAME=VALUE`.
pub fn split_override(arg: &str) -> Result<(&str, &str), String> {
    match arg.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => Ok((n.trim(), v.trim())),
        _ => Err(format!(
            "--budget '{arg}': expected NAME=VALUE, e.g. request_handler.handle_request.p95=2s"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Budget> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/budgets.toml");
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
        assert!(bad.unwrap_err().to_string().contains("not a rate"));
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
        assert!(e.contains("b.toml") && e.contains("line 4"), "{e}");
        let e = parse(
            "[[budget]]\nname = \"x\"\nkind = \"operation\"\nlimit = \"5ms\"\nseed = \"s\"\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(".pNN"), "{e}");
    }
}
