//! The command line: clap definitions, and the glue from parsed options to plans and
//! from outcomes to the documented exit codes. Nothing below this module sees clap.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::environment::Environment;
use crate::exit::{self, ReadyInfo};
use crate::faults::ToxiproxyServer;
use crate::plan::{EnvOptions, UpPlan};
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
    /// LLM fake latency profile from fixtures/llm_profiles.toml, or `instant`.
    #[arg(long, default_value = "fast")]
    llm_profile: String,
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
            llm_profile: a.llm_profile,
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
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::HARNESS_ERROR)
        }
    }
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
}
