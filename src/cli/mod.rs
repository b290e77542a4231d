//! The command line: clap definitions, progress bars and printing. Nothing below this
//! module sees clap; every command is parse → plan → session → print, and one function
//! turns its outcome into the exit code.

mod args;
mod certify;
mod gate;
mod loadlog;
mod output;
mod progress;
mod report;

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::{
    AlertWindowsArg, CapacityArgs, ChaosArgs, Command, ReaperArgs, RunArgs, ToxiproxyArgs, UpArgs,
};
pub use progress::Progress;

use crate::chaos::alerts::rules::SHORTENED_BY;
use crate::chaos::alerts::Windows;
use crate::commands::{capacity, chaos, merge, run, up};
use crate::environment::AlertsConfig;
use crate::exit::{process_exit_code, Outcome};
use crate::faults::ToxiproxyServer;
use crate::plan::{EnvOptions, PlanError};
use crate::session::error_chain;
use crate::shutdown;

/// Why a command could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The options do not make a plan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `harness up` failed.
    #[error(transparent)]
    Up(#[from] up::UpError),
    /// `harness merge`'s shards do not make one run.
    #[error(transparent)]
    MergeInput(#[from] merge::MergeInputError),
    /// `harness merge` could not write its reports.
    #[error(transparent)]
    Merge(#[from] merge::MergeError),
    /// The `--matrix` loop stopped.
    #[error(transparent)]
    Matrix(#[from] chaos::matrix::MatrixError),
    /// `report` or `compare` failed.
    #[error(transparent)]
    Report(#[from] crate::report::files::ReportError),
    /// A flag of `report` or `compare` is wrong.
    #[error("{0}")]
    Flag(&'static str, #[source] crate::report::files::ReportError),
    /// The reaper could not serve.
    #[error(transparent)]
    Reaper(#[from] crate::environment::reaper::ReaperError),
    /// The toxiproxy server could not listen.
    #[error("--port: cannot listen on {0}")]
    Listen(SocketAddr, #[source] std::io::Error),
    /// Writing to stdout failed.
    #[error("writing the output")]
    Output(#[from] std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Runs the binary: parse, plan, execute, and map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", output::clap_line(&e));
            return ExitCode::from(process_exit_code(Outcome::Error));
        }
    };
    logging(cli.command.quiet());
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
        .and_then(|runtime| runtime.block_on(dispatch(cli.command)));
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            Outcome::Error
        }
    };
    ExitCode::from(process_exit_code(outcome))
}

/// Log lines to stderr at `HARNESS_LOG`'s level (default warn); under `--quiet` the load
/// generator's go to [`loadlog::LOAD_LOG`] instead.
fn logging(quiet: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{filter, fmt, EnvFilter, Layer};
    let level = || EnvFilter::try_from_env("HARNESS_LOG").unwrap_or_else(|_| "warn".into());
    let to_stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(level())
        .with_filter(filter::filter_fn(move |m| {
            !(quiet && loadlog::is_generator(m.target()))
        }));
    let kept = fmt::layer()
        .with_ansi(false)
        .with_writer(&loadlog::LOAD_LOG)
        .with_filter(level())
        .with_filter(filter::filter_fn(move |m| {
            quiet && loadlog::is_generator(m.target())
        }));
    let _ = tracing_subscriber::registry()
        .with(to_stderr)
        .with(kept)
        .try_init();
}

/// Under `--quiet`, the load generator's log lines of a run go to its directory, and
/// one line says how many there were.
fn save_load_log(command: &str, dir: &std::path::Path) {
    if let Some((path, n)) = loadlog::LOAD_LOG.save(dir) {
        eprintln!(
            "harness {command}: the load generator logged {n} line{} (in {})",
            if n == 1 { "" } else { "s" },
            path.display()
        );
    }
}

async fn dispatch(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Up(args) => up(args).await,
        Command::ToxiproxyServer(args) => toxiproxy_server(args).await,
        Command::Reaper(args) => reaper(args).await,
        Command::Run(args) => run(*args).await,
        Command::Chaos(args) => chaos(*args).await,
        Command::Capacity(args) => capacity(*args).await,
        Command::Certify(args) => certify::certify(*args).await,
        Command::Gate(args) => gate::gate(*args).await,
        Command::Report(args) => report::report(args),
        Command::Compare(args) => report::compare_files(args),
        Command::Merge(args) => report::merge(args),
    }
}

async fn up(args: UpArgs) -> Result<Outcome, CliError> {
    let fixtures = crate::plan::fixtures_dir(&args.env.fixtures);
    let mut env = EnvOptions::from(args.env).into_config()?;
    if !args.no_alerts {
        let windows = match args.alert_windows {
            Some(AlertWindowsArg::Seed) => Windows::Seed,
            _ => Windows::Shortened(SHORTENED_BY),
        };
        let rules = crate::chaos::alerts::rules::load(&fixtures.join("alerts"), windows)
            .map_err(PlanError::from)?;
        env.alerts = Some(AlertsConfig {
            rules: rules.files,
            every: crate::chaos::alerts::EVERY,
        });
    }
    let plan = up::UpPlan {
        env,
        json: args.json,
        scrape: args.scrape,
    };
    let json = plan.json;
    Ok(up::up(plan.env, plan.scrape, |info| output::ready(info, json)).await?)
}

async fn run(args: RunArgs) -> Result<Outcome, CliError> {
    let (quiet, json) = (args.output.quiet, args.output.json);
    let plan = args.options("smoke").into_plan()?;
    if let run::TargetPlan::Url(url) = &plan.target {
        eprintln!(
            "harness run: measuring {url} as it runs; no environment is started, so faults \
             are not available and the SUT's own data is used"
        );
    }
    one_run("run", plan, &Progress::new(quiet || json), quiet, json).await
}

/// Executes one run and prints its verdict; a run that cannot complete says why.
async fn one_run(
    command: &str,
    plan: run::RunPlan,
    progress: &Progress,
    quiet: bool,
    json: bool,
) -> Result<Outcome, CliError> {
    match run::execute(plan, progress).await {
        Ok(o) => {
            save_load_log(command, &o.dir);
            output::outcome(&o, quiet, json)?;
            Ok(o.results.verdict.outcome())
        }
        Err(e) => {
            eprintln!("harness {command}: {}", error_chain(&e));
            Ok(Outcome::Error)
        }
    }
}

async fn chaos(args: ChaosArgs) -> Result<Outcome, CliError> {
    let (quiet, json, matrix) = (args.run.output.quiet, args.run.output.json, args.matrix);
    let plans = args.options().into_plans()?;
    let progress = Progress::new(quiet || json);
    if !matrix {
        let Some((_, plan)) = plans.into_iter().next() else {
            return Ok(Outcome::Error);
        };
        return one_run("chaos", plan, &progress, quiet, json).await;
    }
    let reports = plans
        .first()
        .map(|(_, p)| p.reports_dir.clone())
        .unwrap_or_else(|| "reports".into());
    let announce = |label: &str| {
        if !quiet && !json {
            eprintln!("harness chaos --matrix: {label}");
        }
    };
    let summary = chaos::matrix::run(plans, &reports, &progress, announce).await?;
    save_load_log("chaos", &reports);
    output::matrix(&summary, json)?;
    Ok(summary.outcome())
}

async fn capacity(args: CapacityArgs) -> Result<Outcome, CliError> {
    let (quiet, json) = (args.run.output.quiet, args.run.output.json);
    let plan = args.options().into_plan()?;
    let progress = Progress::new(quiet || json);
    let say = |s: &crate::results::CapacityStep| {
        if !quiet && !json {
            eprintln!("{}", output::capacity_step(s));
        }
    };
    match capacity::run(plan, &progress, &say).await {
        Ok((c, dir)) => {
            save_load_log("capacity", &dir);
            output::capacity(&c, &dir, json)?;
            Ok(if c.capacity.is_some() {
                Outcome::Passed
            } else {
                Outcome::Failed
            })
        }
        Err(e) => {
            eprintln!("harness capacity: {}", error_chain(&e));
            Ok(Outcome::Error)
        }
    }
}

async fn reaper(args: ReaperArgs) -> Result<Outcome, CliError> {
    use crate::environment::reaper;
    reaper::serve(reaper::ReaperOptions {
        listen: args.listen,
        grace: args.grace,
        wait: args.wait,
        label: args.label,
    })
    .await?;
    Ok(Outcome::Passed)
}

async fn toxiproxy_server(args: ToxiproxyArgs) -> Result<Outcome, CliError> {
    let addr = SocketAddr::new(args.host, args.port);
    let server = ToxiproxyServer::start(addr)
        .await
        .map_err(|e| CliError::Listen(addr, e))?;
    eprintln!("toxiproxy API listening on {}", server.addr());
    let s = shutdown::signalled().await;
    eprintln!("toxiproxy: {s}; stopping");
    server.shutdown().await;
    Ok(Outcome::Passed)
}

#[cfg(test)]
mod tests {
    use super::output::ready_text;
    use super::*;
    use crate::exit::DirectUrls;
    use crate::results::ReadyInfo;

    #[test]
    fn ready_text_snapshot() {
        let info = ReadyInfo {
            backend: "native".into(),
            session: "h1a2b3c".into(),
            postgres_url: "postgres://harness:harness@127.0.0.1:41001/harness".into(),
            redis_url: "redis://127.0.0.1:41002".into(),
            llm_url: "http://127.0.0.1:41003".into(),
            toxiproxy_url: "http://127.0.0.1:41004".into(),
            prometheus_url: Some("http://127.0.0.1:41006".into()),
            alertmanager_url: Some("http://127.0.0.1:41007".into()),
            direct: DirectUrls {
                postgres_url: "postgres://harness:harness@127.0.0.1:5432/harness".into(),
                redis_url: "redis://127.0.0.1:6379".into(),
                llm_url: "http://127.0.0.1:41005".into(),
            },
        };
        insta::assert_snapshot!(ready_text(&info));
    }

    #[test]
    fn an_error_names_each_cause_once() {
        let missing = crate::report::files::load(std::path::Path::new("no/such.json"))
            .expect_err("no such file");
        let line = error_chain(&CliError::from(missing));
        assert_eq!(line.matches("No such file").count(), 1, "{line}");
        assert!(line.starts_with("no/such.json: cannot read: "), "{line}");
    }

    #[test]
    fn every_subcommand_s_help_ends_with_examples_of_itself() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let name = sub.get_name().to_owned();
            let help = sub.render_long_help().to_string();
            let examples = help.split("Examples:").nth(1).unwrap_or_default();
            assert!(
                examples
                    .lines()
                    .any(|l| l.contains(&format!("harness {name}"))),
                "{name}: {help}"
            );
        }
    }

    #[test]
    fn a_missing_flag_is_named_on_the_one_line() {
        let e = Cli::try_parse_from(["harness", "chaos", "--bandwidth", "8"]).unwrap_err();
        let line = output::clap_line(&e);
        assert!(line.contains("--on"), "{line}");
        let e = Cli::try_parse_from(["harness", "chaos", "--redis-down", "--matrix"]).unwrap_err();
        assert!(output::clap_line(&e).contains("--matrix"));
    }
}
