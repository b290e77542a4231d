//! `harness chaos` and its faults, against real environments: each fault takes effect
//! and goes away; the reference SUT degrades as the seeds promise, pages for it, and
//! recovers; an implementation without a fallback is caught, and so are metrics that
//! would leave on-call blind; the matrix covers every fault.

mod alerts;
mod helpers;
mod runs;
mod shards;
#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use harness::chaos::{Fault, Inject, Target};
use harness::llm::{FailStatus, LatencyProfile};
use helpers::{env, llm_status, redis_ping};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_take_effect_and_go_away() {
    let _one = helpers::ONE_AT_A_TIME.lock().await;
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
