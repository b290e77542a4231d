//! Shared steps for the environment suite: bring an environment up through the project's
//! own `Environment`, measure round trips, and check for leftovers.

use std::time::{Duration, Instant};

use harness::environment::{BackendChoice, EnvConfig, Environment};
use sqlx::Connection;

pub async fn start(backend: BackendChoice) -> Environment {
    let config = EnvConfig {
        backend,
        startup_timeout: Duration::from_secs(90),
        ..EnvConfig::default()
    };
    match Environment::start(config).await {
        Ok(env) => env,
        Err(e) => panic!("{backend:?} environment did not start: {e}"),
    }
}

/// Median of `n` `SELECT 1` round trips on one connection.
pub async fn median_rtt(conn: &mut sqlx::PgConnection, n: usize) -> Duration {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *conn)
            .await
            .expect("SELECT 1");
        assert_eq!(one, 1);
        v.push(t.elapsed());
    }
    v.sort();
    v[n / 2]
}

pub async fn connect(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url).await.expect("connect")
}

/// True while anything of this environment's session is still running.
pub fn leftovers(session: &str, owned: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(out) = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=harness.session={session}"),
        ])
        .output()
    {
        let ids = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !ids.is_empty() {
            found.push(format!("containers: {ids}"));
        }
    }
    for pid in owned
        .iter()
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            found.push(format!("process {pid}"));
        }
    }
    let prefix = format!("harness-{session}-");
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                found.push(format!("directory {}", e.path().display()));
            }
        }
    }
    found
}
