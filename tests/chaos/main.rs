//! Faults applied to and removed from a real environment, checked from the outside.

use std::time::{Duration, Instant};

use harness::chaos::{Fault, Target};
use harness::environment::{BackendChoice, EnvConfig, Environment};
use harness::llm::{FailStatus, LatencyProfile};

async fn env() -> Environment {
    Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        ..EnvConfig::default()
    })
    .await
    .expect("environment")
}

async fn redis_ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let attempt = async {
        let mut c = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut c).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Some(_))
    )
}

async fn llm_status(url: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&serde_json::json!({"model": "m", "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}]}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_take_effect_and_go_away() {
    let env = env().await;
    let ep = env.endpoints().clone();
    let baseline = LatencyProfile::instant();
    env.llm()
        .set_profile(baseline.clone())
        .expect("instant llm");

    let down = Fault::Down(Target::Redis);
    assert!(redis_ping(&ep.redis_url).await);
    down.apply(&env).await.expect("apply");
    assert!(
        !redis_ping(&ep.redis_url).await,
        "redis still answers while down"
    );
    down.remove(&env, &baseline).await.expect("remove");
    assert!(redis_ping(&ep.redis_url).await, "redis did not come back");

    let slow = Fault::Latency(Target::Redis, Duration::from_millis(400));
    slow.apply(&env).await.expect("apply");
    let t = Instant::now();
    assert!(redis_ping(&ep.redis_url).await);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    slow.remove(&env, &baseline).await.expect("remove");
    let t = Instant::now();
    assert!(redis_ping(&ep.redis_url).await);
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    let fail = Fault::LlmFail {
        rate: 1.0,
        status: FailStatus::Overloaded,
    };
    assert_eq!(llm_status(&ep.llm_url).await, 200);
    fail.apply(&env).await.expect("apply");
    assert_eq!(llm_status(&ep.llm_url).await, 529);
    fail.remove(&env, &baseline).await.expect("remove");
    assert_eq!(llm_status(&ep.llm_url).await, 200);

    let hang = Fault::LlmTimeout;
    hang.apply(&env).await.expect("apply");
    assert_eq!(
        llm_status(&ep.llm_url).await,
        0,
        "the LLM answered while hanging"
    );
    hang.remove(&env, &baseline).await.expect("remove");
    assert_eq!(llm_status(&ep.llm_url).await, 200);

    env.shutdown().await.expect("shutdown");
}
