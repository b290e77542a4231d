//! The `sut` process: serve the reference service, or `sut seed FILE` to migrate and load
//! seed data. Both binaries (`sut`, and `sut-defects` with the `defects` feature) run it.

use std::process::ExitCode;

/// Runs the process: logging, configuration, then serving (or `seed FILE`).
pub fn main() -> ExitCode {
    // One JSON object per line (seed 002 §4.2, contract LOG-1): a failing case can cite
    // the service's own lines by request id.
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SUT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match crate::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sut: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sut: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match runtime.block_on(run(config, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sut: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(config: crate::Config, args: Vec<String>) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = crate::AppState::new(config)?;
    match args.first().map(String::as_str) {
        Some("seed") => {
            let file = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("usage: sut seed FILE"))?;
            let json = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            crate::MIGRATOR.run(&state.db).await?;
            let n = crate::seed::load(&state.db, &json)
                .await
                .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            eprintln!("sut: seed data loaded ({n} new rows)");
            Ok(())
        }
        Some(other) => {
            anyhow::bail!("unknown command '{other}' (expected no command, or 'seed FILE')")
        }
        None => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("SUT_LISTEN_ADDR={listen}: {e}"))?;
            tracing::info!(addr = %listener.local_addr()?, "sut listening");
            crate::serve(state, listener, async {
                use tokio::signal::unix::{signal, SignalKind};
                let mut term = signal(SignalKind::terminate()).ok();
                let term = async {
                    match term.as_mut() {
                        Some(s) => {
                            s.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term => {},
                }
                tracing::info!("shutting down: finishing requests in flight");
            })
            .await?;
            Ok(())
        }
    }
}
