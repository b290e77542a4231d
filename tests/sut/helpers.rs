//! The SUT as a black box: a process started only through the contract's environment
//! (sut/CONTRACT.md CFG-1, CFG-3), reached only through HTTP, against a real environment
//! (Postgres, Redis and the LLM fake, all through the fault layer).
//!
//! `HARNESS_SUT_CMD` names the implementation under test, as `harness run --sut-cmd`
//! does: a shell command line run in its own process group. Unset, it is the reference
//! `sut` binary built from this workspace. Nothing here reads the SUT's stores.

use std::path::Path;
use std::time::{Duration, Instant};

use harness::environment::{BackendChoice, EnvConfig, Environment};
use harness::llm::LlmFakeConfig;
use harness::service::{contract_env, RunningSut, SutCommand, SutSettings};
use serde_json::{json, Value};

/// `JWT_SECRET` given to the SUT; tokens are minted with it (contract AUTH-4).
pub const SECRET: &str = "test-secret";

/// The environment variable that names the implementation under test.
pub const SUT_CMD_VAR: &str = "HARNESS_SUT_CMD";

/// Settings every test starts the SUT with: short backoffs and no LLM throttle, so a
/// test spends seconds, not the seeds' minutes (contract CFG-3).
const BASE: [(&str, &str); 4] = [
    ("SUT_LLM_BACKOFF_MS", "10"),
    ("SUT_LLM_REQUESTS_PER_MINUTE", "100000"),
    ("SUT_LLM_TIMEOUT_MS", "3000"),
    ("SUT_LLM_FALLBACK_TIMEOUT_MS", "3000"),
];

/// A SUT process with its own environment.
pub struct TestApp {
    pub env: Environment,
    pub http: reqwest::Client,
    sut: RunningSut,
    base: String,
    // The log directory lives as long as the SUT that writes into it.
    _logs: tempfile::TempDir,
}

/// Starts the environment and the SUT with the default settings, and waits for `/ready`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the environment and the SUT with extra `SUT_*` settings.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let env = start_env().await;
    let logs = tempfile::tempdir().expect("tempdir");
    let mut sut = spawn_binary(&env, overrides, logs.path()).await;
    if let Err(e) = sut.wait_ready(Duration::from_secs(90)).await {
        panic!("SUT not ready: {e}");
    }
    let base = sut.base_url().to_owned();
    TestApp {
        env,
        http: reqwest::Client::new(),
        sut,
        base,
        _logs: logs,
    }
}

/// An environment of real services, for tests that start the SUT themselves.
pub async fn start_env() -> Environment {
    Environment::start(EnvConfig {
        backend: BackendChoice::Native,
        llm: LlmFakeConfig::default(),
        ..EnvConfig::default()
    })
    .await
    .expect("environment")
}

/// The implementation under test: `HARNESS_SUT_CMD`, or the reference built once.
pub async fn sut_command() -> SutCommand {
    static COMMAND: tokio::sync::OnceCell<SutCommand> = tokio::sync::OnceCell::const_new();
    COMMAND
        .get_or_init(|| async {
            match std::env::var(SUT_CMD_VAR) {
                Ok(line) if !line.trim().is_empty() => SutCommand::Shell(line),
                _ => SutCommand::Binary(
                    harness::service::build_reference(harness::service::BuildProfile::Debug)
                        .await
                        .expect("cargo build -p sut"),
                ),
            }
        })
        .await
        .clone()
}

/// Spawns the SUT against `env` with the seed file, the base settings and `extra`, its
/// output in `log_dir/sut.log`. It is not yet ready when this returns.
pub async fn spawn_binary(env: &Environment, extra: &[(&str, &str)], log_dir: &Path) -> RunningSut {
    let mut vars: Vec<(String, String)> = BASE
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    vars.sort();
    let settings = SutSettings {
        jwt_secret: SECRET.into(),
        seed_file: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.json").into()),
        extra: vars,
    };
    let port = harness::net::free_port().expect("port");
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let vars = contract_env(env.endpoints(), listen, &settings);
    RunningSut::spawn(
        &sut_command().await,
        listen,
        &vars,
        &log_dir.join("sut.log"),
    )
    .expect("spawn sut")
}

/// A token with the contract's claims (AUTH-4), valid for `ttl_secs` (negative: expired).
pub fn mint(secret: &str, user: &str, roles: &[&str], ttl_secs: i64) -> String {
    let claims = json!({
        "user_id": user,
        "roles": roles,
        "exp": chrono::Utc::now().timestamp() + ttl_secs,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn token(&self, roles: &[&str]) -> String {
        self.token_for("user-1", roles)
    }

    pub fn token_for(&self, user: &str, roles: &[&str]) -> String {
        mint(SECRET, user, roles, 3600)
    }

    pub async fn chat(&self, query: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        let r = self
            .http
            .post(self.url("/api/chat"))
            .bearer_auth(self.token(&["viewer"]))
            .json(&json!({"query": query, "session_id": "s-1"}))
            .send()
            .await
            .expect("chat");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Value::Null), headers)
    }

    /// POSTs `body` as JSON text, as is, so a test can send what no serializer would.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut r = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await
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

    /// `GET /metrics` as text (contract MET-1).
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Polls a job until it leaves `queued`/`processing`, or `timeout`.
    pub async fn wait_job(&self, id: &str, timeout: Duration) -> Value {
        self.wait_job_as("user-1", id, timeout).await
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

    /// SIGTERM, up to 40 s to exit (contract SHUT-3), then the environment down.
    pub async fn stop(self) {
        if let Err(e) = self.sut.stop(Duration::from_secs(40)).await {
            eprintln!("stopping the SUT: {e}");
        }
        self.env.shutdown().await.expect("env shutdown");
    }
}
