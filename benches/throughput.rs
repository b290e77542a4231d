//! Requests a second one load generator makes against a trivial local server: bare
//! Goose 0.18, the harness's closed path (Goose with its samples, collector and
//! histograms), or the harness's open path (hyper, on a schedule). `ci/bench/throughput`
//! runs this under `taskset` beside wrk and prints the ratios; run alone:
//!
//! `cargo bench --bench throughput -- goose|closed|open URL SECONDS CONNECTIONS [RATE]`
//!
//! It prints one line: `RESULT <tool> <requests/s> <completed> <seconds>`.

use std::time::{Duration, Instant};

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::prelude::*;
use harness::load::{self, LoadPlan, LoadShape};
use harness::scenario::Scenario as HarnessScenario;

async fn get(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get("/").await?;
    Ok(())
}

/// Bare Goose: `users` users sending GET / back to back for `secs`.
async fn bare_goose(url: &str, secs: u64, users: usize) -> anyhow::Result<u64> {
    // The same plan the harness's closed path gets: a 1 s ramp, then the hold.
    let plan = format!("{users},1;{users},{secs};0,0");
    let metrics = GooseAttack::initialize_with_config(GooseConfiguration::default())?
        .register_scenario(scenario!("bare").register_transaction(transaction!(get)))
        .set_default(GooseDefault::Host, url)?
        .set_default(GooseDefault::TestPlan, plan.as_str())?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::NoWebSocket, true)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::Quiet, 1)?
        .execute()
        .await?;
    Ok(metrics
        .requests
        .values()
        .map(|r| (r.success_count + r.fail_count) as u64)
        .sum())
}

/// The harness's load phase: closed (`rate` None) or open.
async fn harness_path(url: &str, secs: u64, users: u32, rate: Option<f64>) -> anyhow::Result<u64> {
    let profile = match rate {
        None => format!(
            "users = {users}\nspawn_rate = {users}\nduration = \"{}s\"",
            secs + 1
        ),
        Some(r) => {
            format!("model = \"open\"\nrate = {r}\nduration = \"{secs}s\"\nmax_in_flight = {users}")
        }
    };
    let text = format!(
        "name = \"bench\"\nroles = []\n[[transactions]]\nname = \"get\"\nweight = 1\n\
         method = \"GET\"\npath = \"/\"\n[profiles.bench]\n{profile}\n"
    );
    let scenario = HarnessScenario::parse(&text, std::path::Path::new("bench.toml"))?;
    let shape = LoadShape::settle(scenario.profile("bench")?);
    let out = load::run(LoadPlan {
        scenario,
        shape,
        base_url: url.to_owned(),
        mint: Box::new(|_| String::new()),
        epoch: Instant::now(),
        chatter: load::Chatter::Silenced,
        feeder: None,
        abandon: None,
        shard: load::Shard::WHOLE,
        connections: None,
        slo: None,
    })
    .await?;
    let r = &out.recorded;
    // Every answered request; the open path's dropped sends were never made.
    Ok(r.totals.requests - r.dropped)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [tool, url, secs, conns, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: throughput goose|closed|open URL SECONDS CONNECTIONS [RATE]");
    };
    let secs: u64 = secs.parse()?;
    let conns: u32 = conns.parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let completed = rt.block_on(async {
        match tool.as_str() {
            "goose" => bare_goose(url, secs, conns as usize).await,
            "closed" => harness_path(url, secs, conns, None).await,
            "open" => {
                let rate: f64 = rest
                    .first()
                    .ok_or_else(|| anyhow::anyhow!("open needs a RATE"))?
                    .parse()?;
                harness_path(url, secs, conns, Some(rate)).await
            }
            other => anyhow::bail!("unknown tool {other}"),
        }
    })?;
    // Goose and the closed path run a 1 s ramp plus `secs`; the open path `secs`.
    let measured = match tool.as_str() {
        "open" => Duration::from_secs(secs),
        _ => Duration::from_secs(secs + 1),
    }
    .as_secs_f64();
    println!(
        "RESULT {tool} {:.0} {completed} {:.1}",
        completed as f64 / measured,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
