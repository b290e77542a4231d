//! The environment suite: both backends for real, through the fault layer.

mod alerts;
mod helpers;
mod reaper;
#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use harness::environment::{proxy, BackendChoice, Environment};
use harness::faults::{Stream, Toxic};

async fn exercise(env: Environment) {
    let ep = env.endpoints().clone();

    // Both services answer through their proxies.
    harness::environment::probe::postgres_select_1(&ep.postgres_url)
        .await
        .expect("SELECT 1 through the postgres proxy");
    harness::environment::probe::redis_ping(&ep.redis_url)
        .await
        .expect("PING through the redis proxy");

    // A 300 ms latency toxic raises the round trip by 300 ms ± 10% + 10 ms.
    let mut conn = helpers::connect(&ep.postgres_url).await;
    let base = helpers::median_rtt(&mut conn, 21).await;
    env.faults()
        .add(
            proxy::POSTGRES,
            Stream::Downstream,
            Toxic::Latency {
                ms: 300,
                jitter_ms: 0,
            },
            1.0,
        )
        .await
        .expect("add latency");
    let slow = helpers::median_rtt(&mut conn, 5).await;
    let added = slow.saturating_sub(base).as_secs_f64() * 1000.0;
    assert!(
        (added - 300.0).abs() <= 300.0 * 0.10 + 10.0,
        "latency toxic added {added:.1} ms (base {base:?}, with toxic {slow:?})"
    );
    env.faults().clear(proxy::POSTGRES).await.expect("clear");
    // Removing a toxic resets the proxy's open connections (README, "The fault layer"):
    // the old connection fails cleanly and a new one is as fast as before.
    let old: Result<i32, _> = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await;
    assert!(old.is_err(), "the connection survived the toxic's removal");
    let mut conn = helpers::connect(&ep.postgres_url).await;
    let restored = helpers::median_rtt(&mut conn, 21).await;
    assert!(
        restored < base + Duration::from_millis(10),
        "round trip not restored: {restored:?} vs base {base:?}"
    );

    // A disabled proxy refuses connections; enabling restores them.
    let listen: std::net::SocketAddr = ep
        .postgres_url
        .rsplit('@')
        .next()
        .and_then(|s| s.split('/').next())
        .and_then(|s| s.parse().ok())
        .expect("proxy address in url");
    env.faults()
        .disable(proxy::POSTGRES)
        .await
        .expect("disable");
    let refused = tokio::net::TcpStream::connect(listen).await;
    assert!(refused.is_err(), "disabled proxy accepted a connection");
    assert!(
        harness::environment::probe::postgres_select_1(&ep.postgres_url)
            .await
            .is_err(),
        "query went through a disabled proxy"
    );
    env.faults().enable(proxy::POSTGRES).await.expect("enable");
    harness::environment::probe::postgres_select_1(&ep.postgres_url)
        .await
        .expect("SELECT 1 after re-enabling");

    // The LLM fake answers through its proxy.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", ep.llm_url))
        .header("x-api-key", "test")
        .json(&serde_json::json!({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}))
        .send()
        .await
        .expect("llm through proxy");
    assert_eq!(resp.status(), 200);
    assert_eq!(env.llm().calls(), 1);

    // Nothing is left once it is shut down.
    let session = env.session().to_owned();
    let owned = env.owned();
    assert!(!owned.is_empty());
    drop(conn);
    env.shutdown().await.expect("shutdown");
    let left = support::leftovers(&session, &owned);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_backend_meets_the_environment_contract() {
    exercise(helpers::start(BackendChoice::Native).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_backend_meets_the_environment_contract() {
    let env = helpers::start(BackendChoice::Docker).await;
    assert_eq!(env.backend().to_string(), "docker");
    exercise(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_an_environment_without_shutdown_still_cleans_up() {
    let env = helpers::start(BackendChoice::Native).await;
    let session = env.session().to_owned();
    let owned = env.owned();
    drop(env);
    let left = support::leftovers(&session, &owned);
    assert!(left.is_empty(), "left behind after drop: {left:?}");
}
