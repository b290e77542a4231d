//! Environment start-up time per backend: median, min and max of N starts (default 5),
//! each measured from `Environment::start` to ready (SELECT 1 and PING through the
//! proxies), with shutdown outside the timing.
//!
//! `cargo bench --bench env_startup [-- N]`

use std::time::{Duration, Instant};

use harness::environment::{BackendChoice, EnvConfig, Environment};

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.0} ms  min {:.0} ms  max {:.0} ms  (n={})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        for (name, backend) in [
            ("native", BackendChoice::Native),
            ("docker", BackendChoice::Docker),
        ] {
            let mut times = Vec::new();
            for _ in 0..n {
                let t = Instant::now();
                let env = Environment::start(EnvConfig {
                    backend,
                    ..EnvConfig::default()
                })
                .await?;
                times.push(t.elapsed());
                env.shutdown().await?;
            }
            println!("env start-up {name:7} {}", summary(times));
        }
        Ok(())
    })
}
