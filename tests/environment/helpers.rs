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
