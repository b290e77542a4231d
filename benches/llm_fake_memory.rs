//! The LLM fake's resident memory after N requests (default 100,000), with wiremock's
//! retained requests rotated (the default) and, for comparison, never rotated.
//! Each mode runs in a child process so the two do not share an allocator's high-water
//! mark.
//!
//! `cargo bench --bench llm_fake_memory [-- N]`

use std::time::Instant;

use harness::llm::{LlmFake, LlmFakeConfig};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn measure(n: u64, rotate: bool) -> anyhow::Result<()> {
    let fake = LlmFake::start(LlmFakeConfig {
        rotate_after: if rotate { 10_000 } else { u64::MAX },
        ..LlmFakeConfig::default()
    })
    .await?;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"model":"m","max_tokens":64,
        "messages":[{"role":"user","content":"What is the payment status of Delta Industries' last three invoices? ".repeat(4)}]});
    let before = rss_kib();
    let t = Instant::now();
    let workers: u64 = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(16);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (c, uri, body) = (client.clone(), fake.uri(), body.clone());
        let count = n / workers + u64::from(w < n % workers);
        tasks.push(tokio::spawn(async move {
            let mut non_200 = 0u64;
            for _ in 0..count {
                let r = c
                    .post(format!("{uri}/v1/messages"))
                    .header("x-api-key", "k")
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        non_200 += 1;
                        if non_200 <= 2 {
                            eprintln!("non-200: {}", r.status());
                        }
                    }
                    Err(e) => {
                        non_200 += 1;
                        if non_200 <= 2 {
                            eprintln!("error: {e}");
                        }
                    }
                }
            }
            non_200
        }));
    }
    let mut non_200 = 0;
    for t in tasks {
        non_200 += t.await?;
    }
    let elapsed = t.elapsed();
    let after = rss_kib();
    println!(
        "llm fake, rotation {:3}: {n} requests in {:.1}s ({:.0} req/s); RSS {:.1} MiB -> {:.1} MiB (+{:.1} MiB); rotations {}; non-200 answers {non_200}",
        if rotate { "on" } else { "off" },
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        fake.control().rotations(),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    if let Some(mode) = args.iter().find_map(|a| a.strip_prefix("--mode=")) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return rt.block_on(measure(n, mode == "rotate"));
    }
    for mode in ["rotate", "keep"] {
        let status = std::process::Command::new(&args[0])
            .arg(n.to_string())
            .arg(format!("--mode={mode}"))
            .status()?;
        anyhow::ensure!(status.success(), "{mode} run failed");
    }
    Ok(())
}
