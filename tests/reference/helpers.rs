//! `spawn_app()`: the reference SUT in-process on port 0, wired to a real environment
//! (Postgres, Redis and the LLM fake, all through the fault layer), for the reference's
//! own tests: the ones that look inside it. The contract's checks are the cases of `harness certify`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use harness::environment::{BackendChoice, EnvConfig, Environment};
use harness::llm::LlmFakeConfig;
use serde_json::Value;
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret";

pub struct TestApp {
    pub addr: SocketAddr,
    pub env: Environment,
    /// The SUT's own state, for the reference's unit-level checks.
    pub state: sut::AppState,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the environment and the SUT with extra `SUT_*` settings.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let env = Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        llm: LlmFakeConfig::default(),
        ..EnvConfig::default()
    })
    .await
    .expect("environment");
    let ep = env.endpoints().clone();
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", ep.postgres_url.as_str()),
        ("REDIS_URL", ep.redis_url.as_str()),
        ("LLM_BASE_URL", ep.llm_url.as_str()),
        ("LLM_API_KEY", "test-key"),
        ("JWT_SECRET", SECRET),
        ("SUT_LLM_BACKOFF_MS", "10"),
        ("SUT_LLM_REQUESTS_PER_MINUTE", "100000"),
        ("SUT_LLM_TIMEOUT_MS", "3000"),
        ("SUT_LLM_FALLBACK_TIMEOUT_MS", "3000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = sut::Config::from_lookup(|k| vars.get(k).cloned()).expect("config");
    let state = sut::AppState::new(config).expect("state");

    // Schema and seed data go in directly, bypassing the fault layer.
    let direct = sqlx::PgPool::connect(&ep.postgres_direct_url)
        .await
        .expect("direct pool");
    sut::MIGRATOR.run(&direct).await.expect("migrate");
    let seed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.json"))
        .expect("seed file");
    sut::seed::load(&direct, &seed).await.expect("seed");
    direct.close().await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(sut::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let app = TestApp {
        addr,
        env,
        state,
        http: reqwest::Client::new(),
        stop: Some(stop),
        server: Some(server),
    };
    app.wait_ready(Duration::from_secs(30)).await;
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(r) = self.http.get(self.url("/ready")).send().await {
                if r.status() == 200 {
                    // The entity directory loads right after migrations.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "SUT not ready within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn token(&self, roles: &[&str]) -> String {
        self.token_for("user-1", roles)
    }

    pub fn token_for(&self, user: &str, roles: &[&str]) -> String {
        sut::auth::mint(SECRET, user, roles, 3600).expect("token")
    }

    pub async fn chat(&self, query: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        let r = self
            .http
            .post(self.url("/api/chat"))
            .bearer_auth(self.token(&["viewer"]))
            .json(&serde_json::json!({"query": query, "session_id": "s-1"}))
            .send()
            .await
            .expect("chat");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Value::Null), headers)
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls a job as `user` (a viewer) until it leaves `queued`/`processing`.
    pub async fn wait_job_as(&self, user: &str, id: &str, timeout: Duration) -> Value {
        let token = self.token_for(user, &["viewer"]);
        let deadline = Instant::now() + timeout;
        loop {
            let (s, body) = self.get_json(&format!("/api/v1/jobs/{id}"), &token).await;
            assert_eq!(s, 200, "{body}");
            let status = body["status"].as_str().unwrap_or("");
            if status == "completed" || status == "failed" {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} still {status} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(40), h).await;
        }
        self.env.shutdown().await.expect("env shutdown");
    }
}
