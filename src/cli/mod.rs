//! The command line: clap definitions, and the glue from parsed options to plans and
//! from outcomes to the documented exit codes. Nothing below this module sees clap.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod report;

use crate::chaos::ChaosOptions;
use crate::environment::Environment;
use crate::exit::{self, ReadyInfo};
use crate::faults::ToxiproxyServer;
use crate::plan::{EnvOptions, UpPlan};
use crate::results::MatrixRow;
use crate::run::{Progress, RunOptions};
use crate::shutdown;

/// Load, chaos and conformance testing for LLM-backed HTTP services.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start Postgres, Redis, the fault layer and the LLM fake; print their URLs; wait
    /// for Ctrl-C; tear everything down.
    Up(UpArgs),
    /// Serve the Toxiproxy REST API (a drop-in for toxiproxy-server).
    ToxiproxyServer(ToxiproxyArgs),
    /// Build and start the SUT, load it with a scenario, score it against the budgets,
    /// and exit 0 (all met), 1 (a budget failed) or 2 (could not run).
    Run(Box<RunArgs>),
    /// Load the SUT while faults go in and come out (baseline, fault, recovery), score
    /// each phase against the seeds' degradation rules and the time to recover, and exit
    /// 0, 1 or 2 as `run` does.
    Chaos(Box<ChaosArgs>),
    /// Re-render saved results into HTML, JUnit, Markdown or JSON.
    Report(report::ReportArgs),
    /// Compare two results files budget by budget; exit 1 when one regressed beyond
    /// --max-regression.
    Compare(report::CompareArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario: a name in --scenarios (seed-mix, documents, smoke, chaos, chaos-fast) or
    /// a .toml path [default: smoke for run, chaos for chaos].
    #[arg(long)]
    scenario: Option<String>,
    /// Load profile of the scenario: smoke, ci, full or soak.
    #[arg(long, default_value = "smoke")]
    profile: String,
    /// Override a budget's limit, e.g. request_handler.handle_request.p95=2s (repeatable).
    #[arg(long = "budget", value_name = "NAME=VALUE")]
    budgets: Vec<String>,
    /// Start this command instead of the reference SUT; it gets the contract's
    /// environment variables (sut/CONTRACT.md, CFG-1).
    #[arg(long, value_name = "CMD")]
    sut_cmd: Option<String>,
    /// Measure an implementation that is already running; no environment is started and
    /// faults are not available.
    #[arg(long, value_name = "URL")]
    sut_url: Option<String>,
    /// The JWT secret the SUT verifies tokens with (needed with --sut-url).
    #[arg(long, env = "HARNESS_JWT_SECRET")]
    jwt_secret: Option<String>,
    /// Build the reference SUT as debug or release.
    #[arg(long, default_value = "release")]
    sut_build: String,
    /// How long the SUT may take to answer /ready.
    #[arg(long, default_value = "60s")]
    ready_timeout: String,
    /// Where reports/<run-id>/ go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Where scenario names are looked up.
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    /// No progress bars; only the verdict.
    #[arg(long, short)]
    quiet: bool,
    /// Print results.json to stdout instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    env: EnvArgs,
}

#[derive(Debug, Args)]
struct ChaosArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Make this fraction of LLM calls fail (0 to 1).
    #[arg(long, value_name = "RATE")]
    llm_fail: Option<String>,
    /// The status failed LLM calls get: 429, 500 or 529 [default: 500].
    #[arg(long, value_name = "STATUS")]
    llm_error: Option<String>,
    /// Make every LLM call take this long, e.g. 30s.
    #[arg(long, value_name = "DURATION")]
    llm_latency: Option<String>,
    /// Make LLM calls hang until the SUT gives up.
    #[arg(long)]
    llm_timeout: bool,
    /// Delay everything from Postgres by this much, e.g. 10s.
    #[arg(long, value_name = "DURATION")]
    db_latency: Option<String>,
    /// Cut Postgres off.
    #[arg(long)]
    db_down: bool,
    /// Delay everything from Redis by this much.
    #[arg(long, value_name = "DURATION")]
    redis_latency: Option<String>,
    /// Cut Redis off.
    #[arg(long)]
    redis_down: bool,
    /// Cap the bandwidth from a dependency (KB/s); needs --on.
    #[arg(long, value_name = "KBPS")]
    bandwidth: Option<String>,
    /// Deliver a dependency's data in small delayed slices; needs --on.
    #[arg(long)]
    slicer: bool,
    /// The dependency for --bandwidth or --slicer: db, redis or llm.
    #[arg(long, value_name = "TARGET")]
    on: Option<String>,
    /// Length of the baseline phase [default: the scenario's [chaos], else 30s].
    #[arg(long, value_name = "DURATION")]
    baseline: Option<String>,
    /// Length of the fault phase [default: the scenario's [chaos], else 60s].
    #[arg(long, value_name = "DURATION")]
    fault_for: Option<String>,
    /// Length of the recovery phase [default: the scenario's [chaos], else 90s].
    #[arg(long, value_name = "DURATION")]
    recovery: Option<String>,
    /// Run each fault of the matrix alone, in turn, and summarise.
    #[arg(long)]
    matrix: bool,
    /// Degradation expectations [default: degradation.toml in --fixtures].
    #[arg(long, value_name = "FILE")]
    degradation: Option<PathBuf>,
}

/// Options shared by every command that starts an environment.
#[derive(Debug, Args)]
struct EnvArgs {
    /// docker, native, or auto (docker when a daemon answers, else native).
    #[arg(long, default_value = "auto", env = "HARNESS_BACKEND")]
    backend: String,
    /// Postgres image for the docker backend [env: HARNESS_IMAGE_POSTGRES].
    #[arg(long)]
    image_postgres: Option<String>,
    /// Redis image for the docker backend [env: HARNESS_IMAGE_REDIS].
    #[arg(long)]
    image_redis: Option<String>,
    /// Toxiproxy image for the docker backend [env: HARNESS_IMAGE_TOXIPROXY].
    #[arg(long)]
    image_toxiproxy: Option<String>,
    /// LLM fake latency profile from fixtures/llm_profiles.toml, or `instant`
    /// [default: fast for `up`, the scenario's for `run`].
    #[arg(long)]
    llm_profile: Option<String>,
    /// Seed for the LLM fake's latency and failure draws.
    #[arg(long, default_value_t = 0x5eed)]
    llm_seed: u64,
    /// How long each service may take to become ready.
    #[arg(long, default_value = "90s")]
    startup_timeout: String,
    /// Directory with llm_profiles.toml and the budgets.
    #[arg(long, default_value = "fixtures")]
    fixtures: PathBuf,
}

impl From<EnvArgs> for EnvOptions {
    fn from(a: EnvArgs) -> Self {
        EnvOptions {
            backend: a.backend,
            image_postgres: a.image_postgres,
            image_redis: a.image_redis,
            image_toxiproxy: a.image_toxiproxy,
            llm_profile: a.llm_profile.unwrap_or_else(|| "fast".into()),
            llm_seed: a.llm_seed,
            startup_timeout: a.startup_timeout,
            fixtures: a.fixtures,
        }
    }
}

#[derive(Debug, Args)]
struct UpArgs {
    #[command(flatten)]
    env: EnvArgs,
    /// Print one JSON object on one line when ready, instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ToxiproxyArgs {
    /// Address to bind the API to.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port for the API.
    #[arg(long, default_value_t = 8474)]
    port: u16,
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
            // One clear line: clap's first line names the flag and the bad value.
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered.lines().next().unwrap_or("error: bad arguments")
            );
            return ExitCode::from(exit::HARNESS_ERROR);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::HARNESS_ERROR);
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up(args).await,
            Command::ToxiproxyServer(args) => toxiproxy_server(args).await,
            Command::Run(args) => run(*args).await,
            Command::Chaos(args) => chaos(*args).await,
            Command::Report(args) => report::report(args),
            Command::Compare(args) => report::compare_files(args),
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(exit::HARNESS_ERROR)
        }
    }
}

/// The error and its causes on one line, each said once: many of our errors already
/// name their source in their own message, and `{:#}` would repeat it.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

async fn up(args: UpArgs) -> anyhow::Result<u8> {
    let json = args.json;
    let plan = UpPlan {
        env: EnvOptions::from(args.env).into_config()?,
        json,
    };
    let signal = shutdown::signalled();
    tokio::pin!(signal);
    // A signal during start-up drops the half-started environment, whose parts stop
    // themselves on drop.
    let env = tokio::select! {
        env = Environment::start(plan.env) => env?,
        s = &mut signal => {
            eprintln!("harness up: {s} during start-up; stopped what had started");
            return Ok(exit::HARNESS_ERROR);
        }
    };
    let info = env.ready_info();
    let mut out = std::io::stdout().lock();
    if plan.json {
        writeln!(out, "{}", serde_json::to_string(&info)?)?;
    } else {
        write!(out, "{}", ready_text(&info))?;
    }
    out.flush()?;
    drop(out);
    let s = signal.await;
    eprintln!("harness up: {s}; tearing down");
    env.shutdown().await?;
    Ok(exit::SUCCESS)
}

/// `RunArgs` as engine options; `scenario` unless `--scenario` says otherwise.
fn run_options(args: RunArgs, scenario: &str) -> RunOptions {
    let llm_profile = args.env.llm_profile.clone();
    RunOptions {
        scenario: args.scenario.unwrap_or_else(|| scenario.to_owned()),
        profile: args.profile,
        budgets: args.budgets,
        sut_cmd: args.sut_cmd,
        sut_url: args.sut_url,
        sut_build: args.sut_build,
        reports: args.reports,
        scenarios_dir: scenarios_dir(&args.scenarios),
        ready_timeout: args.ready_timeout,
        jwt_secret: args.jwt_secret,
        llm_profile,
        env: EnvOptions::from(args.env),
        command_line: std::env::args().collect(),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let (quiet, json) = (args.quiet, args.json);
    let plan = run_options(args, "smoke").into_plan()?;
    if let crate::run::TargetPlan::Url(url) = &plan.target {
        eprintln!(
            "harness run: measuring {url} as it runs; no environment is started, so faults \
             are not available and the SUT's own data is used"
        );
    }
    let progress = Progress::new(quiet || json);
    let outcome = match crate::run::execute(plan, &progress).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("harness run: {e}");
            return Ok(exit::HARNESS_ERROR);
        }
    };
    print_outcome(&outcome, quiet, json)?;
    Ok(outcome.results.verdict.exit_code)
}

/// The verdict on stdout: the results as JSON, the last line only, or the tables.
fn print_outcome(outcome: &crate::run::RunOutcome, quiet: bool, json: bool) -> anyhow::Result<()> {
    let r = &outcome.results;
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else if quiet {
        let line = crate::report::table::render(r);
        print!(
            "{}",
            line.lines()
                .last()
                .map(|l| format!("{l}\n"))
                .unwrap_or_default()
        );
    } else {
        if !r.phases.is_empty() {
            print!("{}", crate::report::phases::render(r));
        }
        print!("{}", crate::report::table::render(r));
        println!(
            "report:  {}\nresults: {}",
            outcome.dir.join("report.html").display(),
            outcome.dir.join("results.json").display()
        );
    }
    Ok(())
}

async fn chaos(args: ChaosArgs) -> anyhow::Result<u8> {
    let (quiet, json) = (args.run.quiet, args.run.json);
    let options = ChaosOptions {
        run: run_options(args.run, "chaos"),
        llm_fail: args.llm_fail,
        llm_error: args.llm_error,
        llm_latency: args.llm_latency,
        llm_timeout: args.llm_timeout,
        db_latency: args.db_latency,
        db_down: args.db_down,
        redis_latency: args.redis_latency,
        redis_down: args.redis_down,
        bandwidth: args.bandwidth,
        slicer: args.slicer,
        on: args.on,
        baseline: args.baseline,
        fault_for: args.fault_for,
        recovery: args.recovery,
        matrix: args.matrix,
        degradation: args.degradation,
    };
    let matrix = options.matrix;
    let plans = options.into_plans()?;
    let progress = Progress::new(quiet || json);
    if !matrix {
        let Some((_, plan)) = plans.into_iter().next() else {
            return Ok(exit::HARNESS_ERROR);
        };
        return match crate::run::execute(plan, &progress).await {
            Ok(o) => {
                print_outcome(&o, quiet, json)?;
                Ok(o.results.verdict.exit_code)
            }
            Err(e) => {
                eprintln!("harness chaos: {e}");
                Ok(exit::HARNESS_ERROR)
            }
        };
    }
    let reports = plans
        .first()
        .map(|(_, p)| p.reports_dir.clone())
        .unwrap_or_else(|| PathBuf::from("reports"));
    let mut rows = Vec::new();
    for (label, plan) in plans {
        if !quiet && !json {
            eprintln!("harness chaos --matrix: {label}");
        }
        let row = match crate::run::execute(plan, &progress).await {
            Ok(o) => MatrixRow::from_outcome(&label, &o),
            Err(e @ crate::run::RunError::Interrupted(_)) => {
                eprintln!("harness chaos: {e}");
                return Ok(exit::HARNESS_ERROR);
            }
            Err(e) => MatrixRow::error(&label, &e.to_string()),
        };
        rows.push(row);
    }
    let summary = crate::chaos::matrix::write(&reports, rows)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", crate::report::matrix::render(&summary));
    }
    Ok(summary.exit_code)
}

/// `scenarios/` as given if it exists, else the one in this source tree.
fn scenarios_dir(given: &std::path::Path) -> PathBuf {
    let built_in = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    if !given.is_dir() && given == std::path::Path::new("scenarios") && built_in.is_dir() {
        built_in
    } else {
        given.to_path_buf()
    }
}

/// What `harness up` prints for people once the environment is ready.
fn ready_text(info: &ReadyInfo) -> String {
    format!(
        "environment ready ({} backend, session {})\n\
         \x20 postgres   {}\n\
         \x20 redis      {}\n\
         \x20 llm        {}\n\
         \x20 toxiproxy  {}\n\
         direct (no faults):\n\
         \x20 postgres   {}\n\
         \x20 redis      {}\n\
         \x20 llm        {}\n\
         press Ctrl-C to stop\n",
        info.backend,
        info.session,
        info.postgres_url,
        info.redis_url,
        info.llm_url,
        info.toxiproxy_url,
        info.direct.postgres_url,
        info.direct.redis_url,
        info.direct.llm_url,
    )
}

async fn toxiproxy_server(args: ToxiproxyArgs) -> anyhow::Result<u8> {
    let server = ToxiproxyServer::start(SocketAddr::new(args.host, args.port))
        .await
        .map_err(|e| {
            anyhow::anyhow!("--port: cannot listen on {}:{}: {e}", args.host, args.port)
        })?;
    eprintln!("toxiproxy API listening on {}", server.addr());
    let s = shutdown::signalled().await;
    eprintln!("toxiproxy: {s}; stopping");
    server.shutdown().await;
    Ok(exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::DirectUrls;

    #[test]
    fn ready_text_snapshot() {
        let info = ReadyInfo {
            backend: "native".into(),
            session: "h1a2b3c".into(),
            postgres_url: "postgres://harness:harness@127.0.0.1:41001/harness".into(),
            redis_url: "redis://127.0.0.1:41002".into(),
            llm_url: "http://127.0.0.1:41003".into(),
            toxiproxy_url: "http://127.0.0.1:41004".into(),
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
        let line = one_line(&anyhow::Error::from(missing));
        assert_eq!(line.matches("No such file").count(), 1, "{line}");
        assert!(line.starts_with("no/such.json: "), "{line}");
        // A cause that adds something is kept.
        let e = anyhow::anyhow!("disk full").context("writing reports/x/report.html");
        assert_eq!(one_line(&e), "writing reports/x/report.html: disk full");
    }
}
