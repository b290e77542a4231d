//! What a case works with: the SUT's address, tokens, the environment (when the harness
//! manages it), the recording client, and the way a check says it failed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::check::{CaseError, Or};
use super::http::Http;
use super::run::Charge;
use crate::environment::{EnvConfig, Environment};
use crate::faults::{Stream, SutLimits, Toxic};
use crate::results::certificate::Measure;
use crate::service::{contract_env, RunningSut, SutCommand, SutSettings};

/// How to start (another) instance of the subject, when the harness manages it.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The subject's command.
    pub command: SutCommand,
    /// The environment every instance gets.
    pub env: EnvConfig,
    /// `JWT_SECRET`.
    pub secret: String,
    /// `SUT_SEED_FILE`.
    pub seed_file: PathBuf,
    /// `SUT_*` settings of the level, before a case's own.
    pub base: Vec<(String, String)>,
    /// `--level full`: the seeds' resilience timers hold, so a case's shortening of
    /// one ([`TIMERS`]) is dropped and the case waits out the seed's value.
    pub seed_timers: bool,
    /// How long an instance may take to answer `/ready`.
    pub ready_timeout: Duration,
}

/// The resilience timers a case may shorten at `--level quick` (CFG-5) and that
/// `--level full` keeps at the seeds' values. A case's other settings provoke what it
/// tests (a 100 ms pattern timeout, 3 requests a minute) and apply at every level.
pub const TIMERS: [&str; 1] = ["SUT_BREAKER_TIMEOUT_MS"];

impl Launch {
    /// The `SUT_*` settings an instance of a case with `extra` gets: the level's, then
    /// the case's over them, less the timers the level keeps at the seeds' values.
    pub fn settings(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let extra: Vec<(&str, &str)> = extra
            .iter()
            .filter(|(k, _)| !(self.seed_timers && TIMERS.contains(k)))
            .copied()
            .collect();
        let mut vars: Vec<(String, String)> = self
            .base
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .cloned()
            .chain(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            )
            .collect();
        vars.sort();
        vars
    }

    /// An environment of real services, for a case that starts the subject itself.
    /// Its start is tried three times: ports are picked free and bound a moment later,
    /// so two environments starting at once can, rarely, pick the same one. That is the
    /// harness's trouble, not the subject's verdict.
    pub async fn start_env(&self) -> Result<Environment, CaseError> {
        let mut last = String::new();
        for attempt in 1..=3 {
            match Environment::start(self.env.clone()).await {
                Ok(env) => return Ok(env),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "the environment did not start");
                    last = e.to_string();
                }
            }
        }
        Err(CaseError::Error(format!(
            "starting the environment (3 attempts): {last}"
        )))
    }

    /// Spawns the subject against `env` with the seed file, the base settings and
    /// `extra`, its output in `log_dir/sut.log`. It is not yet ready when this returns.
    pub fn spawn(
        &self,
        env: &Environment,
        extra: &[(&str, &str)],
        log_dir: &Path,
    ) -> Result<RunningSut, CaseError> {
        let settings = SutSettings {
            jwt_secret: self.secret.clone(),
            seed_file: Some(self.seed_file.clone()),
            extra: self.settings(extra),
        };
        let port = crate::net::free_port().or_error("a free port")?;
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let vars = contract_env(env.endpoints(), listen, &settings);
        RunningSut::spawn(&self.command, listen, &vars, &log_dir.join("sut.log"))
            .or_error("starting the subject")
    }
}

/// A case's view of the subject.
pub struct Ctx {
    /// The recording client.
    pub http: Http,
    base: String,
    secret: String,
    user: String,
    env: Option<Environment>,
    launch: Option<Launch>,
    settings: Vec<(String, String)>,
    measures: Mutex<Vec<Measure>>,
    broken: Mutex<Vec<Charge>>,
}

/// A token with the contract's claims (AUTH-4), valid for `ttl_secs` (negative: expired).
pub fn mint(secret: &str, user: &str, roles: &[&str], ttl_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let claims = json!({"user_id": user, "roles": roles, "exp": now + ttl_secs});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

impl Ctx {
    /// A context for the subject at `base`; `env` and `launch` are there when the harness
    /// manages the subject.
    pub fn new(
        base: String,
        secret: String,
        env: Option<Environment>,
        launch: Option<Launch>,
    ) -> Self {
        // Each case is its own user, so cases that share a running subject (black-box)
        // do not see one another's memories, jobs or rate-limit counts.
        static CASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Ctx {
            http: Http::new(Duration::from_secs(60)),
            base,
            secret,
            user: format!("certify-{stamp}-{n}"),
            env,
            launch,
            settings: Vec::new(),
            measures: Mutex::default(),
            broken: Mutex::default(),
        }
    }

    /// The environment, for a case that injects faults or watches the LLM fake.
    pub fn env(&self) -> Result<&Environment, CaseError> {
        self.env
            .as_ref()
            .ok_or_else(|| CaseError::Error("this case needs the harness's environment".into()))
    }

    /// Delays every answer `proxy` passes to the subject by `ms` (a latency toxic).
    pub async fn slow(&self, proxy: &str, ms: u32) -> Result<(), CaseError> {
        let toxic = Toxic::Latency { ms, jitter_ms: 0 };
        self.env()?
            .faults()
            .add(proxy, Stream::Downstream, toxic, 1.0)
            .await
            .or_error(&format!("slowing {proxy} by {ms} ms"))
    }

    /// Takes every toxic off `proxy`.
    pub async fn clear(&self, proxy: &str) -> Result<(), CaseError> {
        self.env()?
            .faults()
            .clear(proxy)
            .await
            .or_error(&format!("clearing {proxy}"))
    }

    /// Cuts the subject off from the service behind `proxy` (connections refused).
    pub async fn cut(&self, proxy: &str) -> Result<(), CaseError> {
        self.env()?
            .faults()
            .disable(proxy)
            .await
            .or_error(&format!("cutting {proxy}"))
    }

    /// Reconnects the service behind `proxy`.
    pub async fn restore(&self, proxy: &str) -> Result<(), CaseError> {
        self.env()?
            .faults()
            .enable(proxy)
            .await
            .or_error(&format!("restoring {proxy}"))
    }

    /// How to start more instances, for a case that starts the subject itself.
    pub fn launch(&self) -> Result<&Launch, CaseError> {
        self.launch
            .as_ref()
            .ok_or_else(|| CaseError::Error("this case needs to start the subject".into()))
    }

    /// Records the `SUT_*` settings the subject was started with, for [`Ctx::limits`].
    pub fn with_settings(mut self, settings: Vec<(String, String)>) -> Self {
        self.settings = settings;
        self
    }

    /// The subject's resilience timers: the seeds' values unless its settings shorten
    /// them. A case waits these out rather than a figure of its own, so it holds at
    /// every level.
    pub fn limits(&self) -> Result<SutLimits, CaseError> {
        let vars = self.settings.iter().cloned().collect();
        SutLimits::from_env(&vars).or_error("the subject's settings")
    }

    /// Takes the environment back when the case is done, keeping the evidence.
    pub fn split_env(mut self) -> (Self, Option<Environment>) {
        let env = self.env.take();
        (self, env)
    }

    /// The `JWT_SECRET` the subject verifies tokens with.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Records a figure against its limit.
    pub fn measure(&self, name: &str, value: f64, unit: &str, limit: Option<&str>) {
        if let Ok(mut m) = self.measures.lock() {
            m.push(Measure {
                name: name.to_owned(),
                value,
                unit: unit.to_owned(),
                limit: limit.map(str::to_owned),
            });
        }
    }

    /// Charges `clause` with a broken expectation; the case goes on (see [`super::check::check!`]).
    pub fn broke(&self, clause: &str, message: String) {
        if let Ok(mut b) = self.broken.lock() {
            b.push(Charge::new(clause, message));
        }
    }

    /// The clauses charged so far, with what was observed.
    pub fn broken(&self) -> Vec<Charge> {
        self.broken.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// The figures recorded so far.
    pub fn measures(&self) -> Vec<Measure> {
        self.measures.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The case's own user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether the subject is this case's own fresh instance (managed), not one that
    /// other cases have used (black-box).
    pub fn fresh(&self) -> bool {
        self.launch.is_some()
    }

    /// A token with `roles` for the case's own user.
    pub fn token(&self, roles: &[&str]) -> String {
        self.token_for(&self.user, roles)
    }

    /// A token for `user` with `roles`, valid for an hour.
    pub fn token_for(&self, user: &str, roles: &[&str]) -> String {
        mint(&self.secret, user, roles, 3600)
    }

    /// Asks `query` as a viewer: (status, body, headers); status 0 when no answer came.
    pub async fn chat(&self, query: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        let sent = self
            .http
            .post(self.url("/api/chat"))
            .bearer_auth(self.token(&["viewer"]))
            .json(&json!({"query": query, "session_id": "s-1"}))
            .send()
            .await;
        match sent {
            Ok(r) => (
                r.status().as_u16(),
                r.json().await.unwrap_or(Value::Null),
                r.headers().clone(),
            ),
            Err(_) => (0, Value::Null, reqwest::header::HeaderMap::new()),
        }
    }

    /// POSTs `body` as JSON text, as is, so a case can send what no serializer would.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Result<super::http::Resp, reqwest::Error> {
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

    /// GETs `path` with `token` (none when empty): (status, JSON body or null); status 0
    /// when no answer came.
    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let mut r = self.http.get(self.url(path));
        if !token.is_empty() {
            r = r.bearer_auth(token);
        }
        match r.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    /// `GET /metrics` as text (contract MET-1); empty when it could not be read.
    pub async fn metrics(&self) -> String {
        match self.http.get(self.url("/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Polls a job as the case's user until it leaves `queued`/`processing`, or `timeout`.
    pub async fn wait_job(&self, id: &str, timeout: Duration) -> Value {
        self.wait_job_as(&self.user, id, timeout).await
    }

    /// Polls a job as `user` (a viewer) until it leaves `queued`/`processing`. When it
    /// cannot be read or does not finish, the answer's `status` says so, so the case's
    /// check of the status fails with that text.
    pub async fn wait_job_as(&self, user: &str, id: &str, timeout: Duration) -> Value {
        let token = self.token_for(user, &["viewer"]);
        let deadline = Instant::now() + timeout;
        loop {
            let (s, body) = self.get_json(&format!("/api/v1/jobs/{id}"), &token).await;
            if s != 200 {
                return json!({"status": format!("unreadable: HTTP {s} {body}")});
            }
            let status = body["status"].as_str().unwrap_or("");
            if status == "completed" || status == "failed" {
                return body;
            }
            if Instant::now() >= deadline {
                return json!({"status": format!("still {status} after {timeout:?}")});
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(seed_timers: bool) -> Launch {
        Launch {
            command: SutCommand::Shell("true".into()),
            env: EnvConfig::default(),
            secret: "s".into(),
            seed_file: PathBuf::from("seed.json"),
            base: vec![("SUT_LLM_TIMEOUT_MS".into(), "3000".into())],
            seed_timers,
            ready_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn full_keeps_the_seeds_breaker_timeout_and_a_cases_provocations() {
        let case = [
            ("SUT_BREAKER_TIMEOUT_MS", "1500"),
            ("SUT_RATE_LIMIT_PER_MINUTE", "3"),
        ];
        let quick = launch(false).settings(&case);
        let full = launch(true).settings(&case);
        let has = |v: &[(String, String)], k: &str| v.iter().any(|(n, _)| n == k);
        assert!(has(&quick, "SUT_BREAKER_TIMEOUT_MS"));
        assert!(!has(&full, "SUT_BREAKER_TIMEOUT_MS"));
        assert!(has(&full, "SUT_RATE_LIMIT_PER_MINUTE"));
        let ctx = |v| Ctx::new("http://x".into(), "s".into(), None, None).with_settings(v);
        let limits = |v| ctx(v).limits().expect("limits").breaker_timeout;
        assert_eq!(limits(quick), Duration::from_millis(1500));
        assert_eq!(limits(full), Duration::from_secs(60));
    }
}
