//! The clap definitions: every flag once, parsed into typed values (durations, rates,
//! statuses, backends, build profiles, fault targets), and turned into plan options.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::chaos::alerts::rules::SHORTENED_BY;
use crate::chaos::alerts::Windows;
use crate::commands::capacity::CapacityOptions;
use crate::commands::chaos::{AlertChoice, ChaosOptions};
use crate::commands::run::RunOptions;
use crate::environment::{BackendChoice, ImageRef};
use crate::faults::{Fault, Target};
use crate::llm::{FailStatus, StreamFault};
use crate::plan::EnvOptions;
use crate::record::Slo;
use crate::service::BuildProfile;
use crate::units;

/// Load, chaos and conformance testing for LLM-backed HTTP services.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Postgres, Redis, the fault layer and the LLM fake; print their URLs; wait
    /// for Ctrl-C; tear everything down.
    #[command(after_help = UP_EXAMPLES)]
    Up(UpArgs),
    /// Remove a session's containers, processes and temporary directory when its harness
    /// goes without a goodbye (killed): the harness starts this itself, as a container
    /// where Docker runs, else as a process fed on stdin.
    #[command(after_help = REAPER_EXAMPLES)]
    Reaper(ReaperArgs),
    /// Serve the Toxiproxy REST API (a drop-in for toxiproxy-server).
    #[command(after_help = TOXIPROXY_EXAMPLES)]
    ToxiproxyServer(ToxiproxyArgs),
    /// Build and start the SUT, load it with a scenario, score it against the budgets,
    /// and exit 0 (all met), 1 (a budget failed) or 2 (could not run).
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Load the SUT while faults go in and come out (baseline, fault, recovery), score
    /// each phase against the seeds' degradation rules and the time to recover, judge
    /// the seeds' alerts in a real Prometheus and Alertmanager, and exit 0, 1 or 2 as
    /// `run` does, or 3 when only the alerts failed.
    #[command(after_help = CHAOS_EXAMPLES)]
    Chaos(Box<ChaosArgs>),
    /// Find the load the SUT sustains within its budgets: step through --rates or
    /// --users, or search (double, then bisect), optionally with a fault held throughout;
    /// exit 0 when a capacity was found, 1 when even the lowest load missed a budget.
    #[command(after_help = CAPACITY_EXAMPLES)]
    Capacity(Box<CapacityArgs>),
    /// Certify an implementation against sut/CONTRACT.md: every case of the clause
    /// catalogue, with evidence, a certificate (JSON, HTML, JUnit, Markdown) and its
    /// digests; exit 0 certified, 1 not certified, 2 could not run.
    #[command(after_help = CERTIFY_EXAMPLES, args_conflicts_with_subcommands = true)]
    Certify(Box<super::certify::CertifyArgs>),
    /// Re-render saved results into HTML, JUnit, Markdown or JSON.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(super::report::ReportArgs),
    /// Compare two stored results files budget by budget; exit 1 when one regressed
    /// beyond --max-regression. For a merge gate use `harness gate`, which runs both
    /// sides on one machine and tests the difference; compare stored runs, made on
    /// machines and at times that may differ, only where that cannot be done.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(super::report::CompareArgs),
    /// Judge a change: run base and head side by side in interleaved blocks, each from
    /// a fresh start under the same open-model load, and decide per metric with paired
    /// tests and intervals (REGRESSED, IMPROVED, UNCHANGED, INCONCLUSIVE); exit 0 (no
    /// regression), 1 (a regression, or INCONCLUSIVE unless --inconclusive pass) or 2.
    #[command(after_help = GATE_EXAMPLES)]
    Gate(Box<super::gate::GateArgs>),
    /// Merge the shards of one run (`run --shard I/N`) exactly, score every budget on the
    /// whole, write the reports, and exit 0 (all met), 1 (a budget failed) or 2.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(super::report::MergeArgs),
}

impl Command {
    /// Whether `--quiet` was given: only the verdict line, no chatter.
    pub fn quiet(&self) -> bool {
        match self {
            Command::Run(a) => a.output.quiet,
            Command::Chaos(a) => a.run.output.quiet,
            Command::Capacity(a) => a.run.output.quiet,
            Command::Certify(a) => a.quiet,
            Command::Gate(a) => a.output.quiet,
            Command::Up(_)
            | Command::Reaper(_)
            | Command::ToxiproxyServer(_)
            | Command::Report(_)
            | Command::Compare(_)
            | Command::Merge(_) => false,
        }
    }
}

const UP_EXAMPLES: &str = "Examples:
  harness up                          # docker if a daemon answers, else local processes
  harness up --backend native --json  # one JSON line with every URL, for scripts
  harness up --llm-profile slow       # the LLM fake answers like a slow model";
const REAPER_EXAMPLES: &str = "Examples:
  harness reaper                              # the owner speaks on stdin (label, pid, dir, clear)
  harness reaper --listen 127.0.0.1:7000      # owners connect over TCP (the reaper container)";
const TOXIPROXY_EXAMPLES: &str = "Examples:
  harness toxiproxy-server                      # 127.0.0.1:8474, as toxiproxy-server
  harness toxiproxy-server --host 0.0.0.0 --port 9000";
const RUN_EXAMPLES: &str = "Examples:
  harness run --scenario seed-mix --profile ci            # 100 users, 2 min, seed 002 §5.1 mix
  harness run --scenario smoke --budget request_handler.handle_request.p95=2s
  harness run --sut-cmd './my-sut' --scenario documents   # an alternate implementation
  harness run --sut-url http://127.0.0.1:8080 --jwt-secret S   # already running; no faults
  harness run --json > results.json                       # results on stdout, nothing else
  harness run --sut-url http://127.0.0.1:8080 --jwt-secret S --shard 0/2 --run-id r1   # one shard";
const CHAOS_EXAMPLES: &str = "Examples:
  harness chaos --llm-fail 1.0                 # every LLM call fails: does it degrade and recover?
  harness chaos --llm-fail 0.5 --llm-error 529 # half the calls overloaded
  harness chaos --db-latency 10s --fault-for 30s
  harness chaos --bandwidth 8 --on redis       # Redis at 8 KB/s
  harness chaos --matrix --scenario chaos-fast # every fault alone, in turn, one summary
  harness chaos --llm-fail 1.0 --alert-windows seed   # the alert rules' own for: and ranges";
const CAPACITY_EXAMPLES: &str = "Examples:
  harness capacity --scenario seed-mix --rates 10,20,40        # three open-model steps
  harness capacity --scenario seed-mix --repeats 2             # search: double, then bisect
  harness capacity --fault 'redis-latency 200ms' --max-rate 80 # the capacity while Redis is slow
  harness capacity --users 10,50,100 --step 60s                # closed model: users, not rates";
const CERTIFY_EXAMPLES: &str = "Examples:
  harness certify                                   # the reference, every case, --level quick
  harness certify --sut-cmd './my-sut' --product product.toml
  harness certify --sut-url http://127.0.0.1:8080 --jwt-secret S   # black-box: never CERTIFIED
  harness certify --list                            # every case with its clauses and level
  harness certify --case jwt_attacks_get_401_or_403 # one case (repeat for more)
  harness certify --exclude pii_never_reaches_the_llm --reason 'no LLM in this build'
  harness certify verify reports/latest/certificate.json   # was it altered?";
const REPORT_EXAMPLES: &str = "Examples:
  harness report reports/latest/results.json             # every format beside the file
  harness report results.json --format junit,md --out ci/";
const GATE_EXAMPLES: &str = "Examples:
  harness gate --base main --head HEAD                  # both built here, seed mix at 20/s
  harness gate --base-cmd ./sut-old --head-cmd ./sut-new --max-regression 10%
  harness gate --base main --head HEAD --inconclusive pass --json > gate.json";
const MERGE_EXAMPLES: &str = "Examples:
  harness merge reports/nightly-42                   # its shard-*/results.json, into it
  harness merge s0.json s1.json s2.json --out merged/ --budget load.error_rate=1%";
const COMPARE_EXAMPLES: &str = "Examples:
  harness compare base.json new.json                      # exit 1 if a budget grew > 10%
  harness compare base.json new.json --max-regression 25% --min-delta 5ms --out pr/";

/// `harness reaper`'s flags.
#[derive(Debug, Args)]
pub struct ReaperArgs {
    /// Listen for owners here instead of reading the one owner on stdin.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// How long after the last owner went it waits for one to come back.
    #[arg(long, default_value = "1s", value_parser = units::duration_or_zero)]
    pub grace: Duration,
    /// How long it waits for the first owner.
    #[arg(long, default_value = "60s", value_parser = units::duration)]
    pub wait: Duration,
    /// Remove the containers with this label (KEY=VALUE) even if no owner ever says so:
    /// the reaper container's own session.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Option<String>,
}

/// `harness run`'s flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario: a name in --scenarios (seed-mix, documents, smoke, chaos, chaos-fast) or
    /// a .toml path [default: smoke for run, chaos for chaos].
    #[arg(long)]
    pub scenario: Option<String>,
    /// Load profile of the scenario: smoke, ci, full or soak.
    #[arg(long, default_value = "smoke")]
    pub profile: String,
    /// Override a budget's limit, e.g. request_handler.handle_request.p95=2s (repeatable).
    #[arg(long = "budget", value_name = "NAME=VALUE")]
    pub budgets: Vec<String>,
    /// The subject: the reference, a command, or a running URL.
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Where the scenario is looked up and the report goes, and how much is printed.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Clients abandon a request (drop the connection) when no answer came this long
    /// after its send; abandoned requests are counted apart, with no latency.
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub abandon_after: Option<Duration>,
    /// The share of requests whose client abandons, 0 < P ≤ 1, e.g. 0.3 or 30%
    /// [default: 1, with --abandon-after].
    #[arg(long, value_name = "P")]
    pub abandon_share: Option<String>,
    /// Run shard I of N (from 0) of the load: its share of the users or the rate, on the
    /// same schedule as the others, against --sut-url; it records and scores nothing
    /// (`harness merge` scores the whole). In `chaos`, shard 0 runs the SUT and drives
    /// the faults, and the others load it with --sut-url.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The run id every shard of one run shares (with --shard).
    #[arg(long, value_name = "ID", env = "HARNESS_RUN_ID")]
    pub run_id: Option<String>,
    /// Start the load at this moment (RFC 3339, or @UNIX_SECONDS), so that every shard
    /// runs the schedule from the same instant and their seconds line up (with --shard).
    #[arg(long, value_name = "TIME", env = "HARNESS_START_AT", value_parser = units::time)]
    pub start_at: Option<std::time::SystemTime>,
    /// Have the SUT the harness starts listen here (it sets SUT_LISTEN_ADDR), e.g.
    /// 0.0.0.0:8080, so other machines can load it: the other shards of a chaos run
    /// [default: 127.0.0.1 on a free port].
    #[arg(long, value_name = "ADDR")]
    pub sut_listen: Option<std::net::SocketAddr>,
    /// Service-level objectives: report goodput, the share of requests that met them
    /// all, overall and per second, e.g. ttft=500ms,itl=50ms,e2e=5s (also tpot=).
    #[arg(long, value_name = "NAME=DURATION,...", value_parser = slo)]
    pub slo: Option<Slo>,
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
}

fn stream_fault(text: &str) -> Result<StreamFault, crate::llm::StreamFaultError> {
    text.parse()
}

fn slo(text: &str) -> Result<Slo, crate::record::SloError> {
    text.parse()
}

/// Which implementation to measure or certify, and how to start it: the flags `run`,
/// `chaos`, `capacity` and `certify` share.
#[derive(Debug, Args)]
pub struct SubjectArgs {
    /// Start this command instead of the reference SUT; it gets the contract's
    /// environment variables (sut/CONTRACT.md, CFG-1). A program with plain arguments
    /// runs as itself; anything else runs under `sh -c` (end it with `exec PROGRAM` so
    /// SIGTERM reaches the program and its exit status is the one seen).
    #[arg(long, value_name = "CMD")]
    pub sut_cmd: Option<String>,
    /// Measure an implementation that is already running; no environment is started and
    /// faults are not available.
    #[arg(long, value_name = "URL")]
    pub sut_url: Option<String>,
    /// How the SUT is built, started and given its secret.
    #[command(flatten)]
    pub start: StartArgs,
}

/// How the harness builds, starts and authenticates with a SUT: the flags every command
/// that starts one shares (`gate` too, which takes its subjects as git refs or commands).
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The JWT secret the SUT verifies tokens with (needed with --sut-url; a SUT the
    /// harness starts is given it, or a random one).
    #[arg(long, env = "HARNESS_JWT_SECRET")]
    pub jwt_secret: Option<String>,
    /// Build the reference SUT (or a gate's git refs) as debug or release.
    #[arg(long, default_value = "release")]
    pub sut_build: BuildProfile,
    /// How long the SUT may take to answer /ready.
    #[arg(long, default_value = "60s", value_parser = units::duration)]
    pub ready_timeout: Duration,
}

impl StartArgs {
    /// `options` with the SUT's build, start-up wait and secret from these flags.
    pub fn apply(self, options: RunOptions) -> RunOptions {
        RunOptions {
            sut_build: self.sut_build,
            ready_timeout: self.ready_timeout,
            jwt_secret: self.jwt_secret,
            ..options
        }
    }
}

/// Where a command looks up its scenario and writes its report, and what it prints: the
/// flags `run`, `chaos`, `capacity` and `gate` share.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Where reports/<id>/ go.
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Where scenario names are looked up.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// No progress bars and no load-generator chatter; only the verdict line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the JSON report (results.json, gate.json, …) to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `harness capacity`'s flags: `run`'s, and the probes.
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Everything `run` takes (the scenario gives the mix and think time; --profile is
    /// not used).
    #[command(flatten)]
    pub run: RunArgs,
    /// Step through these rates, requests a second (open model), e.g. 10,20,40.
    #[arg(long, value_name = "R,R,…", conflicts_with = "users")]
    pub rates: Option<String>,
    /// Step through these user counts (closed model), e.g. 10,50,100.
    #[arg(long, value_name = "N,N,…")]
    pub users: Option<String>,
    /// Where a search starts, requests a second.
    #[arg(long, default_value_t = 5.0)]
    pub start_rate: f64,
    /// The highest rate a search tries.
    #[arg(long, default_value_t = 320.0)]
    pub max_rate: f64,
    /// A search stops bisecting when its bracket is this close (a fraction).
    #[arg(long, default_value_t = 0.1)]
    pub precision: f64,
    /// Probes at each load; it passes only when every one does.
    #[arg(long, default_value_t = 1)]
    pub repeats: u32,
    /// Each probe's scored length.
    #[arg(long, default_value = "30s", value_parser = units::duration)]
    pub step: Duration,
    /// Each probe's unscored start.
    #[arg(long, default_value = "5s", value_parser = units::duration)]
    pub warmup: Duration,
    /// Hold this fault for the whole search, written as for a scenario's [chaos] faults:
    /// 'redis-latency 200ms', 'llm-fail 0.5', 'bandwidth 8 on db'.
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<String>,
    /// The open model's in-flight cap; sends due beyond it are dropped and counted.
    #[arg(long, default_value_t = crate::load::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: u32,
    /// A request within this end to end (and not failed) counts towards goodput
    /// [default: the request_handler.handle_request.p95 budget].
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub goodput_limit: Option<Duration>,
    /// What a probe must meet to pass: budgets (every applicable budget), or
    /// goodput>=SHARE (that share of transactions met every objective of --slo).
    #[arg(long, value_name = "budgets|goodput>=SHARE")]
    pub objective: Option<String>,
}

impl CapacityArgs {
    /// The capacity options.
    pub fn options(self) -> CapacityOptions {
        CapacityOptions {
            run: self.run.options("seed-mix"),
            rates: self.rates,
            users: self.users,
            start_rate: self.start_rate,
            max_rate: self.max_rate,
            precision: self.precision,
            repeats: self.repeats,
            step: self.step,
            warmup: self.warmup,
            fault: self.fault,
            max_in_flight: self.max_in_flight,
            goodput_limit: self.goodput_limit,
            objective: self.objective,
        }
    }
}

/// `harness chaos`'s flags: `run`'s, the faults and the phases.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// Everything `run` takes.
    #[command(flatten)]
    pub run: RunArgs,
    /// The faults.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Length of the baseline phase [default: the scenario's [chaos], else 30s].
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub baseline: Option<Duration>,
    /// Length of the fault phase [default: the scenario's [chaos], else 60s].
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub fault_for: Option<Duration>,
    /// Length of the recovery phase [default: the scenario's [chaos], else 90s].
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub recovery: Option<Duration>,
    /// Run each fault of the matrix alone, in turn, and summarise.
    #[arg(long, conflicts_with = "faults")]
    pub matrix: bool,
    /// With --matrix: run only the rows of these fault kinds, e.g. db-down,redis-down.
    #[arg(
        long,
        value_name = "KIND,...",
        value_delimiter = ',',
        requires = "matrix"
    )]
    pub matrix_only: Vec<String>,
    /// Degradation expectations [default: degradation.toml in --fixtures].
    #[arg(long, value_name = "FILE")]
    pub degradation: Option<PathBuf>,
    /// The alert rules' windows: `seed` (their own for: and ranges) or `short` (each a
    /// sixtieth: a minute becomes a second) [default: seed with the full profile, else
    /// short].
    #[arg(long, value_name = "seed|short", conflicts_with = "no_alerts")]
    pub alert_windows: Option<AlertWindowsArg>,
    /// The alert rules [default: alerts/ in --fixtures].
    #[arg(long, value_name = "DIR", conflicts_with = "no_alerts")]
    pub alert_rules: Option<PathBuf>,
    /// Start no Prometheus or Alertmanager: the run is not judged on its alerts.
    #[arg(long)]
    pub no_alerts: bool,
}

/// `--alert-windows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertWindowsArg {
    /// The seeds' own windows.
    Seed,
    /// Every window a sixtieth of the seeds'.
    Short,
}

/// The fault flags; each becomes a [`Fault`] value.
#[derive(Debug, Args)]
#[group(id = "faults", multiple = true)]
#[command(group(clap::ArgGroup::new("shaped").args(["bandwidth", "slicer"]).multiple(true)))]
pub struct FaultArgs {
    /// Make this fraction of LLM calls fail (0 to 1).
    #[arg(long, value_name = "RATE", value_parser = units::rate)]
    pub llm_fail: Option<f64>,
    /// The status failed LLM calls get: 400, 429, 500 or 529 [default: 500].
    #[arg(long, value_name = "STATUS", requires = "llm_fail")]
    pub llm_error: Option<FailStatus>,
    /// Make every LLM call take this long, e.g. 30s.
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub llm_latency: Option<Duration>,
    /// Make LLM calls hang until the SUT gives up.
    #[arg(long)]
    pub llm_timeout: bool,
    /// Break the LLM's streamed answers: error:N (an overloaded_error event after N
    /// tokens), stall:N:DURATION (no event for DURATION after N tokens), truncate:N (the
    /// connection closes after N tokens) or slow-decode:TOKENS_PER_S.
    #[arg(long, value_name = "FAULT", value_parser = stream_fault)]
    pub llm_stream: Option<StreamFault>,
    /// Delay everything from Postgres by this much, e.g. 10s.
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub db_latency: Option<Duration>,
    /// Cut Postgres off.
    #[arg(long)]
    pub db_down: bool,
    /// Delay everything from Redis by this much.
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    pub redis_latency: Option<Duration>,
    /// Cut Redis off.
    #[arg(long)]
    pub redis_down: bool,
    /// Cap the bandwidth from a dependency (KB/s); needs --on.
    #[arg(long, value_name = "KBPS", value_parser = units::kbps, requires = "on")]
    pub bandwidth: Option<u32>,
    /// Deliver a dependency's data in small delayed slices; needs --on.
    #[arg(long, requires = "on")]
    pub slicer: bool,
    /// The dependency for --bandwidth or --slicer: db, redis or llm.
    #[arg(long, value_name = "TARGET", requires = "shaped")]
    pub on: Option<Target>,
}

impl FaultArgs {
    /// The faults the flags ask for, in a fixed order.
    pub fn faults(&self) -> Vec<Fault> {
        let on = self.on.unwrap_or(Target::Db);
        let mut out = Vec::new();
        if let Some(rate) = self.llm_fail {
            let status = self.llm_error.unwrap_or(FailStatus::ApiError);
            out.push(Fault::LlmFail { rate, status });
        }
        out.extend(self.llm_latency.map(Fault::LlmLatency));
        out.extend(self.llm_timeout.then_some(Fault::LlmTimeout));
        out.extend(self.llm_stream.map(Fault::LlmStream));
        out.extend(self.db_latency.map(|d| Fault::Latency(Target::Db, d)));
        out.extend(self.db_down.then_some(Fault::Down(Target::Db)));
        out.extend(self.redis_latency.map(|d| Fault::Latency(Target::Redis, d)));
        out.extend(self.redis_down.then_some(Fault::Down(Target::Redis)));
        out.extend(self.bandwidth.map(|k| Fault::Bandwidth(on, k)));
        out.extend(self.slicer.then_some(Fault::Slicer(on)));
        out
    }
}

/// Options shared by every command that starts an environment.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// docker, native, or auto (docker when a daemon answers, else native).
    #[arg(long, default_value = "auto", env = "HARNESS_BACKEND")]
    pub backend: BackendChoice,
    /// Postgres image for the docker backend [env: HARNESS_IMAGE_POSTGRES].
    #[arg(long)]
    pub image_postgres: Option<ImageRef>,
    /// Redis image for the docker backend [env: HARNESS_IMAGE_REDIS].
    #[arg(long)]
    pub image_redis: Option<ImageRef>,
    /// Toxiproxy image for the docker backend [env: HARNESS_IMAGE_TOXIPROXY].
    #[arg(long)]
    pub image_toxiproxy: Option<ImageRef>,
    /// Prometheus image for the docker backend [env: HARNESS_IMAGE_PROMETHEUS].
    #[arg(long)]
    pub image_prometheus: Option<ImageRef>,
    /// Alertmanager image for the docker backend [env: HARNESS_IMAGE_ALERTMANAGER].
    #[arg(long)]
    pub image_alertmanager: Option<ImageRef>,
    /// LLM fake latency profile from fixtures/llm_profiles.toml, or `instant`
    /// [default: fast for `up`, the scenario's for `run`].
    #[arg(long)]
    pub llm_profile: Option<String>,
    /// Seed for the LLM fake's latency and failure draws.
    #[arg(long, default_value_t = 0x5eed)]
    pub llm_seed: u64,
    /// How long each service may take to become ready.
    #[arg(long, default_value = "90s", value_parser = units::duration)]
    pub startup_timeout: Duration,
    /// Directory with llm_profiles.toml and the budgets.
    #[arg(long, default_value = "fixtures")]
    pub fixtures: PathBuf,
}

impl From<EnvArgs> for EnvOptions {
    fn from(a: EnvArgs) -> Self {
        EnvOptions {
            backend: a.backend,
            image_postgres: a.image_postgres,
            image_redis: a.image_redis,
            image_toxiproxy: a.image_toxiproxy,
            image_prometheus: a.image_prometheus,
            image_alertmanager: a.image_alertmanager,
            llm_profile: a.llm_profile.unwrap_or_else(|| "fast".into()),
            llm_seed: a.llm_seed,
            startup_timeout: a.startup_timeout,
            fixtures: a.fixtures,
        }
    }
}

/// `harness up`'s flags.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Print one JSON object on one line when ready, instead of text.
    #[arg(long)]
    pub json: bool,
    /// Start no Prometheus or Alertmanager.
    #[arg(long)]
    pub no_alerts: bool,
    /// The alert rules' windows: `seed` or `short` (each a sixtieth) [default: short].
    #[arg(long, value_name = "seed|short", conflicts_with = "no_alerts")]
    pub alert_windows: Option<AlertWindowsArg>,
    /// The SUT Prometheus scrapes, e.g. 127.0.0.1:8000 [default: none].
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "no_alerts")]
    pub scrape: Option<std::net::SocketAddr>,
}

/// `harness toxiproxy-server`'s flags.
#[derive(Debug, Args)]
pub struct ToxiproxyArgs {
    /// Address to bind the API to.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port for the API.
    #[arg(long, default_value_t = 8474)]
    pub port: u16,
}

impl RunArgs {
    /// The run options; `scenario` unless `--scenario` says otherwise.
    pub fn options(self, scenario: &str) -> RunOptions {
        let llm_profile = self.env.llm_profile.clone();
        self.subject.start.apply(RunOptions {
            scenario: self.scenario.unwrap_or_else(|| scenario.to_owned()),
            profile: self.profile,
            budgets: self.budgets,
            sut_cmd: self.subject.sut_cmd,
            sut_url: self.subject.sut_url,
            reports: self.output.reports,
            scenarios_dir: self.output.scenarios,
            llm_profile,
            env: EnvOptions::from(self.env),
            command_line: std::env::args().collect(),
            quiet: self.output.quiet,
            abandon_after: self.abandon_after,
            abandon_share: self.abandon_share,
            shard: self.shard,
            run_id: self.run_id,
            start_at: self.start_at,
            sut_listen: self.sut_listen,
            slo: self.slo,
            ..RunOptions::default()
        })
    }
}

impl ChaosArgs {
    /// The chaos options.
    pub fn options(self) -> ChaosOptions {
        ChaosOptions {
            faults: self.faults.faults(),
            run: self.run.options("chaos"),
            baseline: self.baseline,
            fault_for: self.fault_for,
            recovery: self.recovery,
            matrix: self.matrix,
            matrix_only: self.matrix_only,
            degradation: self.degradation,
            alerts: if self.no_alerts {
                AlertChoice::Off
            } else {
                AlertChoice::On {
                    windows: self.alert_windows.map(|w| match w {
                        AlertWindowsArg::Seed => Windows::Seed,
                        AlertWindowsArg::Short => Windows::Shortened(SHORTENED_BY),
                    }),
                    rules: self.alert_rules,
                }
            },
        }
    }
}
