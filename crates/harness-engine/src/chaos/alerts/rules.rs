//! The alert rules a chaos run is judged with (`fixtures/alerts/*.yml`): read, checked
//! for what the scoring needs (a name, an expression, a `seed` label), and rendered for
//! Prometheus with the seeds' windows or with every window shortened by one factor, as
//! CFG-5 shortens the SUT's timers.

use std::path::Path;
use std::time::Duration;

use serde_yaml::Value;

use crate::datafile::{DataErrorKind, DataFileError};
use crate::environment::alerts::RuleFile;
use crate::units;

/// How much the default, short windows divide the seeds' by: a minute becomes a second.
pub const SHORTENED_BY: u32 = 60;

/// Which windows the rules run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Windows {
    /// The seeds' own `for:` and ranges (`--level full`, the `full` profiles).
    Seed,
    /// Every `for:` and range divided by this factor.
    Shortened(u32),
}

impl Windows {
    /// The factor every window is divided by (1 for the seeds' own).
    pub fn factor(self) -> u32 {
        match self {
            Windows::Seed => 1,
            Windows::Shortened(f) => f.max(1),
        }
    }

    /// The windows a record says ran: divided by `factor` (1: the seeds' own).
    pub fn from_factor(factor: u32) -> Windows {
        match factor {
            0 | 1 => Windows::Seed,
            f => Windows::Shortened(f),
        }
    }

    /// How the report says which windows ran.
    pub fn describe(self) -> String {
        match self {
            Windows::Seed => "the seeds' own windows".into(),
            Windows::Shortened(f) => {
                format!(
                    "every window (for: and [range]) divided by {f}, as CFG-5 shortens the timers"
                )
            }
        }
    }
}

/// One alert rule, with the windows it runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `alert:`.
    pub name: String,
    /// Its `seed` label.
    pub seed: String,
    /// `for:` as it runs (zero when the rule has none).
    pub hold: Duration,
    /// The longest range in its expression as it runs (zero when it has none).
    pub window: Duration,
}

/// The rules of a run, as Prometheus gets them and as the scoring reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    /// The files, rendered.
    pub files: Vec<RuleFile>,
    /// Every rule.
    pub rules: Vec<Rule>,
    /// Which windows.
    pub windows: Windows,
}

impl RuleSet {
    /// The rule named `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

/// Reads every `*.yml` of `dir`, in name order, and renders it with `windows`.
pub fn load(dir: &Path, windows: Windows) -> Result<RuleSet, DataFileError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DataFileError::read(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(DataFileError::invalid(
            dir,
            "*.yml",
            "no rule file in the directory",
        ));
    }
    let mut set = RuleSet {
        files: Vec::new(),
        rules: Vec::new(),
        windows,
    };
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| DataFileError::read(&path, e))?;
        let (file, rules) = render(&path, &text, windows)?;
        for r in &rules {
            if set.rule(&r.name).is_some() {
                return Err(DataFileError::invalid(
                    &path,
                    format!("alert {}", r.name),
                    "named twice",
                ));
            }
        }
        set.rules.extend(rules);
        set.files.push(file);
    }
    Ok(set)
}

/// One file rendered with `windows`, and its rules.
pub fn render(
    path: &Path,
    text: &str,
    windows: Windows,
) -> Result<(RuleFile, Vec<Rule>), DataFileError> {
    let syntax = |e: serde_yaml::Error| DataFileError {
        path: path.to_owned(),
        line: e.location().map(|l| l.line()),
        kind: DataErrorKind::Syntax(e.to_string()),
    };
    let mut doc: Value = serde_yaml::from_str(text).map_err(syntax)?;
    let factor = windows.factor();
    let mut rules = Vec::new();
    let groups = doc
        .get_mut("groups")
        .and_then(Value::as_sequence_mut)
        .ok_or_else(|| {
            DataFileError::invalid(path, "groups", "a list of rule groups is required")
        })?;
    for (g, group) in groups.iter_mut().enumerate() {
        let Some(list) = group.get_mut("rules").and_then(Value::as_sequence_mut) else {
            return Err(DataFileError::invalid(
                path,
                format!("groups[{g}].rules"),
                "a list of rules is required",
            ));
        };
        for (i, rule) in list.iter_mut().enumerate() {
            let at = format!("groups[{g}].rules[{i}]");
            let Some(name) = rule.get("alert").and_then(Value::as_str).map(str::to_owned) else {
                continue; // a recording rule
            };
            let field = |f: &str| format!("{at} ({name}).{f}");
            let seed = rule
                .get("labels")
                .and_then(|l| l.get("seed"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    DataFileError::invalid(
                        path,
                        field("labels.seed"),
                        "every rule names the seed it comes from",
                    )
                })?;
            let expr = rule.get("expr").and_then(Value::as_str).ok_or_else(|| {
                DataFileError::invalid(path, field("expr"), "an expression is required")
            })?;
            let (expr, window) = shorten_ranges(expr, factor).map_err(|bad| {
                DataFileError::invalid(
                    path,
                    field("expr"),
                    format!("the range [{bad}] is not a duration"),
                )
            })?;
            let hold = match rule.get("for").and_then(Value::as_str) {
                Some(f) => {
                    units::duration_or_zero(f)
                        .map_err(|e| DataFileError::invalid(path, field("for"), e))?
                        / factor
                }
                None => Duration::ZERO,
            };
            if let Some(map) = rule.as_mapping_mut() {
                map.insert("expr".into(), expr.into());
                if !hold.is_zero() {
                    map.insert("for".into(), prom(hold).into());
                }
            }
            rules.push(Rule {
                name,
                seed,
                hold,
                window,
            });
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rules.yml".into());
    let body = serde_yaml::to_string(&doc).map_err(syntax)?;
    let text = format!(
        "# {name}, rendered by harness with {}.\n{body}",
        windows.describe()
    );
    Ok((RuleFile { name, text }, rules))
}

/// A duration as Prometheus writes one.
fn prom(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// Divides every range (`[5m]`, and the range of a subquery `[5m:30s]`) of `expr` by
/// `factor`; returns the new expression and its longest range as it runs.
fn shorten_ranges(expr: &str, factor: u32) -> Result<(String, Duration), String> {
    let mut out = String::with_capacity(expr.len());
    let mut longest = Duration::ZERO;
    let mut rest = expr;
    while let Some(open) = rest.find('[') {
        let Some(len) = rest[open..].find(']') else {
            break;
        };
        out.push_str(&rest[..=open]);
        let inside = &rest[open + 1..open + len];
        let (range, step) = inside
            .split_once(':')
            .map_or((inside, None), |(r, s)| (r, Some(s)));
        let d = units::duration_or_zero(range.trim()).map_err(|_| inside.to_owned())? / factor;
        longest = longest.max(d);
        out.push_str(&prom(d));
        if let Some(step) = step {
            out.push(':');
            if !step.trim().is_empty() {
                let s =
                    units::duration_or_zero(step.trim()).map_err(|_| inside.to_owned())? / factor;
                out.push_str(&prom(s));
            }
        }
        out.push(']');
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    Ok((out, longest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: rate(x_total[5m]) > 0.1 and max_over_time(y[15m:1m]) > 0\n        for: 2m\n        labels:\n          seed: \"002\"\n      - record: job:x:rate\n        expr: rate(x_total[1m])\n";

    #[test]
    fn shortened_windows_divide_every_for_and_range_by_one_factor() {
        let (file, rules) =
            render(Path::new("a.yml"), FILE, Windows::Shortened(60)).expect("renders");
        assert_eq!(rules.len(), 1, "the recording rule is not an alert");
        let r = &rules[0];
        assert_eq!((r.name.as_str(), r.seed.as_str()), ("Slow", "002"));
        assert_eq!(r.hold, Duration::from_secs(2));
        assert_eq!(r.window, Duration::from_secs(15));
        assert!(file.text.contains("rate(x_total[5000ms])"), "{}", file.text);
        assert!(file.text.contains("y[15000ms:1000ms]"), "{}", file.text);
        assert!(file.text.contains("for: 2000ms"), "{}", file.text);
        assert!(file
            .text
            .starts_with("# a.yml, rendered by harness with every window"));
    }

    #[test]
    fn the_seed_windows_leave_the_rules_as_written() {
        let (file, rules) = render(Path::new("a.yml"), FILE, Windows::Seed).expect("renders");
        assert_eq!(rules[0].hold, Duration::from_secs(120));
        assert_eq!(rules[0].window, Duration::from_secs(900));
        assert!(
            file.text.contains("rate(x_total[300000ms])"),
            "{}",
            file.text
        );
    }

    #[test]
    fn a_rule_without_its_seed_or_with_a_bad_range_is_refused_by_field() {
        let no_seed = FILE.replace("        labels:\n          seed: \"002\"\n", "");
        let e = render(Path::new("a.yml"), &no_seed, Windows::Seed).expect_err("no seed");
        assert!(
            e.to_string()
                .contains("groups[0].rules[0] (Slow).labels.seed"),
            "{e}"
        );
        let bad = FILE.replace("[5m]", "[soon]");
        let e = render(Path::new("a.yml"), &bad, Windows::Seed).expect_err("bad range");
        assert!(e.to_string().contains("[soon]"), "{e}");
    }
}
