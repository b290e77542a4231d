//! What every command's plan shares: the environment options, the one error a plan
//! fails with, and where the fixtures and scenarios are. Each command's own options and
//! their validation live in its folder under `commands/`. Errors here name the flag,
//! file or variable at fault; no layer below this one knows a flag's name.

mod env;

use std::path::{Path, PathBuf};

pub use env::EnvOptions;

use crate::chaos::SettingError;
use crate::datafile::DataFileError;
use crate::environment::ImageError;
use crate::scenario::{NoProfile, ScenarioError};
use crate::scoring::budgets::{BudgetError, OverrideSyntax};

/// A plan that cannot be made. Each names the flag, file or variable at fault; the
/// cause, where there is one, is its source.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--scenario` names nothing usable.
    #[error("--scenario {0}")]
    Scenario(String, #[source] ScenarioError),
    /// `--profile` names no profile of the scenario.
    #[error("--profile {0}")]
    Profile(String, #[source] NoProfile),
    /// A budget file or override is wrong.
    #[error(transparent)]
    Budget(#[from] BudgetError),
    /// `--budget` is not `NAME=VALUE`.
    #[error("--budget")]
    BudgetSyntax(#[source] OverrideSyntax),
    /// A data file (LLM profiles, degradation expectations) is wrong.
    #[error(transparent)]
    DataFile(#[from] DataFileError),
    /// An image reference from a flag or variable is wrong.
    #[error("{0}")]
    Image(&'static str, #[source] ImageError),
    /// A scenario's `sut_env` setting is not a number.
    #[error("{0}")]
    Setting(String, #[source] SettingError),
    /// Two flags that exclude each other.
    #[error("{0} and {1}: give one, not both")]
    Conflict(&'static str, &'static str),
    /// A flag's value is unusable.
    #[error("{flag}: {why}")]
    Value {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The reports directory cannot be written.
    #[error("--reports")]
    Reports(#[source] crate::report::files::ReportError),
    /// A chaos run with nothing to inject.
    #[error(
        "no fault: give one (--llm-fail 1.0, --db-down, …), --matrix, or [chaos] faults in {0}"
    )]
    NoFault(PathBuf),
}

/// The fixtures directory: as given if it exists, else the one in this source tree
/// (so the binary also works when run from elsewhere in a checkout).
pub fn fixtures_dir(given: &Path) -> PathBuf {
    built_in_unless_given(given, "fixtures")
}

/// `scenarios/` as given if it exists, else the one in this source tree.
pub fn scenarios_dir(given: &Path) -> PathBuf {
    built_in_unless_given(given, "scenarios")
}

fn built_in_unless_given(given: &Path, name: &str) -> PathBuf {
    if given.is_dir() {
        return given.to_path_buf();
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    if given == Path::new(name) && built_in.is_dir() {
        built_in
    } else {
        given.to_path_buf()
    }
}
