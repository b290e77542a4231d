//! `harness report` and `harness compare`: work on saved results files, start nothing.

use std::path::PathBuf;

use clap::Args;

use std::time::Duration;

use super::CliError;
use crate::exit::Outcome;
use crate::report::files::{self, ReportError};
use crate::scoring::compare::{compare, Thresholds};
use crate::units;

/// `harness report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results.json written by `run` or `chaos`.
    results: PathBuf,
    /// Comma-separated formats: html, junit, md, json [default: all of them].
    #[arg(long, value_name = "FORMATS")]
    format: Option<String>,
    /// Where the reports go [default: beside the results file].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `harness compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The results to compare against, e.g. from the base branch.
    base: PathBuf,
    /// The results under review.
    new: PathBuf,
    /// The largest allowed growth, e.g. 10%: of the base value for latencies, of the
    /// limit for ratios.
    #[arg(long, default_value = "10%", value_name = "PERCENT", value_parser = crate::units::percent)]
    max_regression: f64,
    /// Latency changes smaller than this are noise, e.g. 1ms.
    #[arg(long, default_value = "1ms", value_name = "DURATION", value_parser = units::duration_or_zero)]
    min_delta: Duration,
    /// Also write compare.md and compare.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the comparison as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// `harness merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard results files, or a run's directory holding shard-*/results.json.
    #[arg(required = true, value_name = "DIR|FILE")]
    inputs: Vec<PathBuf>,
    /// Override a budget's limit, e.g. request_handler.handle_request.p95=2s (repeatable).
    #[arg(long = "budget", value_name = "NAME=VALUE")]
    budgets: Vec<String>,
    /// Where the merged reports go [default: the run's directory: the one given, or
    /// --reports/<run-id>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Where reports/<run-id>/ go when files were given.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Directory with the budgets.
    #[arg(long, default_value = "fixtures")]
    fixtures: PathBuf,
    /// Degradation expectations for the shards of a chaos run [default:
    /// degradation.toml in --fixtures].
    #[arg(long, value_name = "FILE")]
    degradation: Option<PathBuf>,
    /// Where the shards' scenario is looked up (for its budget overrides) when its file
    /// is not where the shards ran it from.
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    /// Only the verdict line.
    #[arg(long, short)]
    quiet: bool,
    /// Print the merged results.json to stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// Merges the shards of one run, scores the whole and prints the verdict.
pub fn merge(args: MergeArgs) -> Result<Outcome, CliError> {
    let (quiet, json) = (args.quiet, args.json);
    let plan = crate::commands::merge::MergeOptions {
        inputs: args.inputs,
        budgets: args.budgets,
        out: args.out,
        reports: args.reports,
        fixtures: args.fixtures,
        degradation: args.degradation,
        scenarios_dir: args.scenarios,
        command_line: std::env::args().collect(),
    }
    .into_plan()?;
    let outcome = crate::commands::merge::merge(plan)?;
    super::output::outcome(&outcome, quiet, json)?;
    Ok(outcome.results.verdict.outcome())
}

/// Renders saved results into the chosen formats; prints each file written.
pub fn report(args: ReportArgs) -> Result<Outcome, CliError> {
    let formats = files::parse_formats(args.format.as_deref().unwrap_or(""))
        .map_err(|e| CliError::Flag("--format", e))?;
    let out = match args.out {
        Some(o) => o,
        None => args
            .results
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_owned()
                }
            })
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    files::check_dir(&out)?;
    let results = files::load(&args.results)?;
    for path in files::write(&results, &out, &formats)? {
        println!("{}", path.display());
    }
    Ok(Outcome::Passed)
}

/// Compares two results files; exit 1 on a regression.
pub fn compare_files(args: CompareArgs) -> Result<Outcome, CliError> {
    let (max_regression, min_delta) = (args.max_regression, args.min_delta);
    if let Some(out) = &args.out {
        files::check_dir(out)?;
    }
    let base = files::load(&args.base)?;
    let new = files::load(&args.new)?;
    let c = compare(
        (&args.base.display().to_string(), &base),
        (&args.new.display().to_string(), &new),
        Thresholds {
            max_regression,
            min_delta_ms: min_delta.as_secs_f64() * 1000.0,
        },
    );
    if let Some(out) = &args.out {
        let write = |name: &str, bytes: Vec<u8>| {
            let path = out.join(name);
            std::fs::write(&path, bytes).map_err(|source| ReportError::Write { path, source })
        };
        write(
            "compare.md",
            crate::commands::compare::markdown(&c).into_bytes(),
        )?;
        write(
            "compare.json",
            serde_json::to_vec_pretty(&c).unwrap_or_default(),
        )?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
    } else {
        print!("{}", crate::commands::compare::render(&c));
    }
    Ok(c.outcome())
}
