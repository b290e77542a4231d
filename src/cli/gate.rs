//! `harness gate`'s flags and its front end: a line per block and per look on stderr,
//! the table (or gate.json) on stdout, and the exit code from the gate's outcome.

use std::time::Duration;

use clap::Args;

use super::args::{EnvArgs, OutputArgs, StartArgs};
use super::{CliError, Progress};
use crate::commands::gate::{self, GateOptions, GateProgress};
use crate::commands::run::RunOptions;
use crate::exit::Outcome;
use crate::plan::EnvOptions;
use crate::results::{GateBlock, GateCall, InconclusivePolicy};
use crate::session::error_chain;
use crate::units;

/// `harness gate`'s flags.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The base side: a git ref of this checkout (main, HEAD~1, a sha), built in a
    /// worktree under target/gate/.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// The head side: a git ref, as --base.
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,
    /// The base side as a command, started as --sut-cmd is (the contract's environment).
    #[arg(long, value_name = "CMD")]
    pub base_cmd: Option<String>,
    /// The head side as a command.
    #[arg(long, value_name = "CMD")]
    pub head_cmd: Option<String>,
    /// Scenario: a name in --scenarios or a .toml path; its mix and budgets are judged.
    #[arg(long, default_value = "seed-mix")]
    pub scenario: String,
    /// Open-model arrivals a second in every block, whichever side is faster.
    #[arg(long, default_value_t = GateOptions::default().rate)]
    pub rate: f64,
    /// Each block's scored length.
    #[arg(long, default_value = "20s", value_parser = units::duration)]
    pub block: Duration,
    /// Each block's unscored start.
    #[arg(long, default_value = "3s", value_parser = units::duration_or_zero)]
    pub warmup: Duration,
    /// Pairs of blocks before the first look.
    #[arg(long, default_value_t = 4)]
    pub min_pairs: u32,
    /// The most pairs of blocks.
    #[arg(long, default_value_t = 10)]
    pub max_pairs: u32,
    /// Stop adding pairs when another would end past this.
    #[arg(long, default_value = "10m", value_parser = units::duration)]
    pub max_duration: Duration,
    /// A latency or the CPU cost regresses only when shown worse by more than this.
    #[arg(long, default_value = "5%", value_name = "PERCENT", value_parser = units::percent)]
    pub max_regression: f64,
    /// A share (error rate, fallback share) regresses only when shown worse by more
    /// than this many points, e.g. 1%.
    #[arg(long, default_value = "1%", value_name = "PERCENT", value_parser = units::percent)]
    pub max_share_change: f64,
    /// A latency change smaller than this is no change, whatever its ratio (a 5% change
    /// of a 30 µs operation is 1.5 µs), e.g. 50us; 0s judges every latency by ratio alone.
    #[arg(long, default_value = "50us", value_name = "DURATION", value_parser = units::duration_or_zero)]
    pub min_delta: Duration,
    /// The chance that a gate with no real change says REGRESSED for any metric.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// What an INCONCLUSIVE gate exits with: fail (1) or pass (0).
    #[arg(long, default_value = "fail", value_parser = inconclusive)]
    pub inconclusive: InconclusivePolicy,
    /// Override a budget's limit (repeatable); the budgets name the percentiles judged.
    #[arg(long = "budget", value_name = "NAME=VALUE")]
    pub budgets: Vec<String>,
    /// How each side is built (a git ref), started and given its secret.
    #[command(flatten)]
    pub start: StartArgs,
    /// Where the scenario is looked up and the gate's files go, and what is printed.
    #[command(flatten)]
    pub output: OutputArgs,
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
}

/// An `--inconclusive` value that is neither `fail` nor `pass`.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' (expected fail or pass)")]
pub struct InconclusiveError(String);

fn inconclusive(text: &str) -> Result<InconclusivePolicy, InconclusiveError> {
    match text {
        "fail" => Ok(InconclusivePolicy::Fail),
        "pass" => Ok(InconclusivePolicy::Pass),
        other => Err(InconclusiveError(other.to_owned())),
    }
}

impl GateArgs {
    /// The gate's options.
    pub fn options(self) -> GateOptions {
        let llm_profile = self.env.llm_profile.clone();
        GateOptions {
            base_ref: self.base,
            head_ref: self.head,
            base_cmd: self.base_cmd,
            head_cmd: self.head_cmd,
            run: self.start.apply(RunOptions {
                scenario: self.scenario,
                budgets: self.budgets,
                reports: self.output.reports,
                scenarios_dir: self.output.scenarios,
                llm_profile,
                env: EnvOptions::from(self.env),
                command_line: std::env::args().collect(),
                quiet: true,
                ..RunOptions::default()
            }),
            rate: self.rate,
            block: self.block,
            warmup: self.warmup,
            min_pairs: self.min_pairs,
            max_pairs: self.max_pairs,
            max_duration: self.max_duration,
            max_regression: self.max_regression,
            max_share_change: self.max_share_change,
            min_delta: self.min_delta,
            alpha: self.alpha,
            inconclusive: self.inconclusive,
        }
    }
}

/// One line a block and a look, on stderr.
struct Lines {
    quiet: bool,
}

impl GateProgress for Lines {
    fn block(&self, b: &GateBlock) {
        if self.quiet {
            return;
        }
        let cpu = b
            .cpu_ms_per_request
            .map_or_else(|| "-".into(), |c| format!("{c:.2}"));
        let busy = b
            .machine_busy
            .map_or_else(|| "-".into(), |c| format!("{:.0}%", c * 100.0));
        let out = b
            .excluded
            .map(|e| format!(", left out: {}", e.describe()))
            .unwrap_or_default();
        eprintln!(
            "harness gate: block {} ({}, pair {}): {} requests, SUT {cpu} CPU ms a request, \
             machine {busy} busy, {} late{out}",
            b.index,
            b.side.as_str(),
            b.pair,
            b.requests,
            b.late
        );
    }

    fn look(&self, pairs: u32, call: GateCall, undecided: usize, metrics: usize) {
        if !self.quiet {
            eprintln!(
                "harness gate: look at {pairs} pairs: {} ({undecided} of {metrics} metrics \
                 not decided)",
                call.as_str()
            );
        }
    }
}

/// `harness gate`.
pub async fn gate(args: GateArgs) -> Result<Outcome, CliError> {
    let (quiet, json) = (args.output.quiet, args.output.json);
    let plan = args.options().into_plan()?;
    let progress = Progress::new(true);
    match gate::run(
        &plan,
        &progress,
        &Lines {
            quiet: quiet || json,
        },
    )
    .await
    {
        Ok((report, dir)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else if quiet {
                println!("gate: {}", gate::report::headline(&report));
            } else {
                print!("{}", gate::report::render(&report));
                println!("reports: {}", dir.display());
            }
            Ok(report.outcome())
        }
        Err(e) => {
            eprintln!("harness gate: {}", error_chain(&e));
            Ok(Outcome::Error)
        }
    }
}
