//! `harness merge`'s options, validated into a [`MergePlan`] before anything is merged:
//! every shard's results file read and checked against the others (one run, one
//! scenario, profile, schema and schedule, every shard there once), and the budgets the
//! whole is scored against.

use std::path::{Path, PathBuf};

use super::session::{MergePlan, ShardFile};
use crate::chaos::alerts::Windows;
use crate::chaos::{Band, ChaosSpec, Fault, Phases};
use crate::commands::{chaos, run};
use crate::plan::{fixtures_dir, scenarios_dir, PlanError};
use crate::report::files::ReportError;
use crate::results::Results;
use crate::scenario::Scenario;

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// Results files, or directories searched for `shard-*/results.json`.
    pub inputs: Vec<PathBuf>,
    /// `--budget NAME=VALUE`, repeatable.
    pub budgets: Vec<String>,
    /// `--out`: where the merged reports go (default: the run's directory).
    pub out: Option<PathBuf>,
    /// `--reports`, for `reports/<run-id>/` when no directory was given.
    pub reports: PathBuf,
    /// `--fixtures`: where `budgets.toml` (and `degradation.toml`) are.
    pub fixtures: PathBuf,
    /// `--degradation`: the expectations a chaos run's shards are scored against.
    pub degradation: Option<PathBuf>,
    /// `--scenarios`: where the shards' scenario is looked up for its budget overrides.
    pub scenarios_dir: PathBuf,
    /// The command line, for the report.
    pub command_line: Vec<String>,
}

/// Why shard results cannot be merged (exit code 2). Each names the file or flag.
#[derive(Debug, thiserror::Error)]
pub enum MergeInputError {
    /// What every command's plan can get wrong: a budget, the scenario, `--out`.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Nothing to merge.
    #[error("no results file given: name shard results files or a directory that holds them")]
    Nothing,
    /// A directory with no shard in it.
    #[error("{0}: no shard-*/results.json in it")]
    Empty(PathBuf),
    /// A file that cannot be read as results.
    #[error(transparent)]
    Read(#[from] ReportError),
    /// Results that are not one shard's.
    #[error("{0}: not a shard's results (no `shard`); record shards with harness run --shard I/N")]
    NotAShard(PathBuf),
    /// Two shards that are not of one run.
    #[error("{path}: {field} is {theirs}, but {first} has {ours}")]
    Disagree {
        /// The file that disagrees.
        path: PathBuf,
        /// What differs.
        field: &'static str,
        /// Its value there.
        theirs: String,
        /// The first file, which the others are checked against.
        first: PathBuf,
        /// Its value in the first file.
        ours: String,
    },
    /// The same shard twice.
    #[error("{path}: shard {index} is also {other}")]
    Twice {
        /// The second file.
        path: PathBuf,
        /// The shard.
        index: u32,
        /// The first file with it.
        other: PathBuf,
    },
    /// A recorded fault that does not read back.
    #[error("{path}: shard.chaos.faults: {problem}")]
    Fault {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        problem: crate::faults::FaultParseError,
    },
    /// Shard 0 of a chaos run without what its driver saw.
    #[error("{0}: shard 0 of a chaos run, but no `chaos` record of the faults and /health it saw")]
    NoDriverRecord(PathBuf),
    /// A shard is missing.
    #[error("shard {missing:?} of {count} missing: only {present:?} were given")]
    Missing {
        /// The missing indices.
        missing: Vec<u32>,
        /// How many shards the run has.
        count: u32,
        /// The indices given.
        present: Vec<u32>,
    },
}

impl MergeOptions {
    /// Reads and checks every shard and the budgets.
    pub fn into_plan(self) -> Result<MergePlan, MergeInputError> {
        let files = shard_files(&self.inputs)?;
        let shards = check(files)?;
        let first = &shards[0].results;
        // The shards' scenario gives its budget overrides, as `harness run` applies them:
        // its file where the shards ran it from, if it is here, else by name.
        let recorded = Path::new(&first.scenario.file);
        let wanted = if recorded.is_file() {
            first.scenario.file.clone()
        } else {
            first.scenario.name.clone()
        };
        let (scenario, file) = Scenario::find(&wanted, &scenarios_dir(&self.scenarios_dir))
            .map_err(|e| PlanError::Scenario(wanted.clone(), e))?;
        let fixtures = fixtures_dir(&self.fixtures);
        let budgets = run::scored_budgets(&fixtures, &scenario, &file, &self.budgets)?;
        let chaos = match first.shard.as_ref().and_then(|s| s.chaos.as_ref()) {
            None => None,
            Some(told) => {
                let path = &shards[0].path;
                if first.chaos.is_none() {
                    return Err(MergeInputError::NoDriverRecord(path.clone()));
                }
                let faults = told
                    .faults
                    .iter()
                    .map(|f| f.parse::<Fault>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|problem| MergeInputError::Fault {
                        path: path.clone(),
                        problem,
                    })?;
                let degradation = self.degradation.as_deref();
                let (limits, expectations) =
                    chaos::judged(&scenario, &file, &budgets, &fixtures, degradation)?;
                // The driving shard's alert record is judged again with the rules and
                // windows it ran.
                let recorded = first.chaos.as_ref().and_then(|c| c.alerts.as_ref());
                let alerts = match recorded {
                    Some(a) => Some(chaos::alert_spec(
                        &fixtures.join("alerts"),
                        Windows::from_factor(a.shortened_by),
                        &degradation
                            .map_or_else(|| fixtures.join("degradation.toml"), Path::to_path_buf),
                        &limits,
                        &budgets,
                    )?),
                    None => None,
                };
                Some(ChaosSpec {
                    faults,
                    phases: Phases::from(told),
                    expectations,
                    band: Band::default(),
                    limits,
                    alerts,
                })
            }
        };
        let run_id = first.run_id.clone();
        let dir = match (&self.out, self.inputs.as_slice()) {
            (Some(out), _) => out.clone(),
            // One directory: the run's own, beside its shards.
            (None, [d]) if d.is_dir() => d.clone(),
            (None, _) => self.reports.join(&run_id),
        };
        crate::report::files::check_dir(&dir).map_err(PlanError::Reports)?;
        Ok(MergePlan {
            shards,
            budgets,
            chaos,
            dir,
            reports_dir: self.reports,
            command_line: self.command_line,
        })
    }
}

/// The results files named, each directory searched for `shard-*/results.json`.
fn shard_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, MergeInputError> {
    if inputs.is_empty() {
        return Err(MergeInputError::Nothing);
    }
    let mut files = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(input)
            .map_err(|e| ReportError::from(crate::datafile::DataFileError::read(input, e)))?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("shard-"))
            .map(|e| e.path().join("results.json"))
            .filter(|p| p.is_file())
            .collect();
        if found.is_empty() {
            return Err(MergeInputError::Empty(input.clone()));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Reads every file and checks that they are the shards of one run, each once.
fn check(files: Vec<PathBuf>) -> Result<Vec<ShardFile>, MergeInputError> {
    let mut shards: Vec<ShardFile> = Vec::new();
    for path in files {
        let results = crate::report::files::load(&path)?;
        if results.shard.is_none() {
            return Err(MergeInputError::NotAShard(path));
        }
        if let Some(first) = shards.first() {
            agree(&first.path, &first.results, &path, &results)?;
        }
        shards.push(ShardFile { path, results });
    }
    let Some(count) = shards
        .first()
        .and_then(|s| s.results.shard.as_ref())
        .map(|s| s.count)
    else {
        return Err(MergeInputError::Nothing);
    };
    shards.sort_by_key(|s| s.index());
    for pair in shards.windows(2) {
        if pair[0].index() == pair[1].index() {
            return Err(MergeInputError::Twice {
                path: pair[1].path.clone(),
                index: pair[1].index(),
                other: pair[0].path.clone(),
            });
        }
    }
    let present: Vec<u32> = shards.iter().map(ShardFile::index).collect();
    let missing: Vec<u32> = (0..count).filter(|i| !present.contains(i)).collect();
    if !missing.is_empty() {
        return Err(MergeInputError::Missing {
            missing,
            count,
            present,
        });
    }
    Ok(shards)
}

/// `b` (at `path`) is a shard of the same run as `a` (at `first`).
fn agree(first: &Path, a: &Results, path: &Path, b: &Results) -> Result<(), MergeInputError> {
    let schedule = |r: &Results| {
        r.scenario
            .stages
            .iter()
            .map(|s| format!("{}+{}+{} s", s.start_s, s.ramp_s, s.hold_s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let model = |r: &Results| format!("{:?}", r.load.as_ref().map(|l| l.model));
    let count = |r: &Results| {
        r.shard
            .as_ref()
            .map(|s| s.count.to_string())
            .unwrap_or_default()
    };
    let start = |r: &Results| {
        r.shard
            .as_ref()
            .and_then(|s| s.start_at.clone())
            .unwrap_or_else(|| "not set".into())
    };
    let faults = |r: &Results| match r.shard.as_ref().and_then(|s| s.chaos.as_ref()) {
        Some(c) => format!(
            "{} (phases {}+{}+{} ms)",
            c.faults.join(" + "),
            c.baseline_ms,
            c.fault_ms,
            c.recovery_ms
        ),
        None => "none (not a chaos run)".into(),
    };
    let checks = [
        (
            "schema_version",
            a.schema_version.to_string(),
            b.schema_version.to_string(),
        ),
        ("run_id", a.run_id.clone(), b.run_id.clone()),
        ("scenario", a.scenario.name.clone(), b.scenario.name.clone()),
        (
            "profile",
            a.scenario.profile.clone(),
            b.scenario.profile.clone(),
        ),
        ("the shard count", count(a), count(b)),
        (
            "the warm-up",
            format!("{} s", a.warmup_s),
            format!("{} s", b.warmup_s),
        ),
        ("the schedule", schedule(a), schedule(b)),
        ("--start-at", start(a), start(b)),
        ("the load model", model(a), model(b)),
        ("the faults", faults(a), faults(b)),
    ];
    match checks.into_iter().find(|(_, ours, theirs)| ours != theirs) {
        Some((field, ours, theirs)) => Err(MergeInputError::Disagree {
            path: path.to_owned(),
            field,
            theirs,
            first: first.to_owned(),
            ours,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
