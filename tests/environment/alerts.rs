//! The alert components of both backends, for real: Prometheus scrapes a target the
//! test controls, evaluates a rule over it, and Alertmanager delivers the firing and
//! the resolution to the harness's receiver; everything is gone after shutdown.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::environment::{
    AlertsConfig, BackendChoice, EnvConfig, Environment, Received, RuleFile,
};
use harness::results::AlertStatus;

use crate::support;

const RULES: &str = "groups:\n  - name: test\n    rules:\n      - alert: FlagUp\n        \
                     expr: flag == 1\n        labels:\n          seed: \"test\"\n";

/// A `/metrics` that says `flag` is whatever the returned handle holds.
async fn target() -> (SocketAddr, Arc<AtomicU8>) {
    let flag = Arc::new(AtomicU8::new(0));
    let shown = flag.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let v = shown.load(Ordering::SeqCst);
            async move { format!("# TYPE flag gauge\nflag {v}\n") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, flag)
}

/// Waits up to 20 s for a notification of `FlagUp` with `status`; returns how long.
async fn notified(env: &Environment, status: AlertStatus) -> Duration {
    let t = Instant::now();
    let seen = |r: &Received| r.alert == "FlagUp" && r.status == status;
    while t.elapsed() < Duration::from_secs(20) {
        if env
            .alerting()
            .expect("alerting")
            .received()
            .iter()
            .any(seen)
        {
            return t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {status:?} notification of FlagUp within 20 s");
}

async fn pages_and_clears(backend: BackendChoice) {
    let env = Environment::start(EnvConfig {
        backend,
        startup_timeout: Duration::from_secs(90),
        alerts: Some(AlertsConfig {
            rules: vec![RuleFile {
                name: "test.yml".into(),
                text: RULES.into(),
            }],
            every: Duration::from_secs(1),
        }),
        ..EnvConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{backend:?} environment with alerts: {e}"));
    let session = env.session().to_owned();
    let owned = env.owned();
    let info = env.ready_info();
    assert!(
        info.prometheus_url.is_some() && info.alertmanager_url.is_some(),
        "{info:?}"
    );

    let (addr, flag) = target().await;
    let a = env.alerting().expect("alerting");
    a.scrape(addr, Duration::from_secs(20))
        .await
        .expect("scraped");
    assert!(a.received().is_empty(), "an alert before the flag went up");
    flag.store(1, Ordering::SeqCst);
    // A scrape, an evaluation and a notification, each within about a second.
    let fired = notified(&env, AlertStatus::Firing).await;
    assert!(fired < Duration::from_secs(6), "fired after {fired:?}");
    flag.store(0, Ordering::SeqCst);
    let resolved = notified(&env, AlertStatus::Resolved).await;
    assert!(
        resolved < Duration::from_secs(6),
        "resolved after {resolved:?}"
    );
    let got = env.alerting().expect("alerting").received();
    assert_eq!(got[0].seed.as_deref(), Some("test"));

    env.shutdown().await.expect("shutdown");
    let left = support::leftovers(&session, &owned);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_prometheus_and_alertmanager_page_and_clear() {
    pages_and_clears(BackendChoice::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_prometheus_and_alertmanager_page_and_clear() {
    pages_and_clears(BackendChoice::Docker).await;
}
