//! Readiness probes: real protocol round trips, not port checks.

use std::time::Duration;

use sqlx::Connection;

/// What a failed probe saw: the server's or the client library's own words, kept for the
/// harness's log and its readiness errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

impl ProbeError {
    /// Any error, as the text it displays.
    pub fn from_display(e: impl std::fmt::Display) -> Self {
        ProbeError(e.to_string())
    }
}

/// `attempt`, unless it takes longer than 5 s.
async fn within_5s<T>(
    attempt: impl std::future::Future<Output = Result<T, ProbeError>>,
) -> Result<T, ProbeError> {
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err(ProbeError("timed out after 5s".into())))
}

/// One scalar query over a fresh Postgres connection.
async fn pg_scalar<T>(url: &str, sql: &'static str) -> Result<T, ProbeError>
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    within_5s(async {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(ProbeError::from_display)?;
        let v: T = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .map_err(ProbeError::from_display)?;
        let _ = conn.close().await;
        Ok(v)
    })
    .await
}

/// One command over a fresh Redis connection.
async fn redis_text(url: &str, cmd: redis::Cmd) -> Result<String, ProbeError> {
    within_5s(async {
        let client = redis::Client::open(url).map_err(ProbeError::from_display)?;
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(ProbeError::from_display)?;
        cmd.query_async(&mut con)
            .await
            .map_err(ProbeError::from_display)
    })
    .await
}

/// One `SELECT 1` over a fresh connection.
pub async fn postgres_select_1(url: &str) -> Result<(), ProbeError> {
    match pg_scalar::<i32>(url, "SELECT 1").await? {
        1 => Ok(()),
        one => Err(ProbeError(format!("SELECT 1 returned {one}"))),
    }
}

/// One `PING` over a fresh connection.
pub async fn redis_ping(url: &str) -> Result<(), ProbeError> {
    match redis_text(url, redis::cmd("PING")).await? {
        pong if pong == "PONG" => Ok(()),
        pong => Err(ProbeError(format!("PING answered {pong}"))),
    }
}

/// Succeeds when the server at `url` is the one serving the cluster in `data`: on a port
/// another postgres holds, `SELECT 1` would succeed against the wrong server.
pub async fn postgres_serves(url: &str, data: &std::path::Path) -> Result<(), ProbeError> {
    let theirs: String = pg_scalar(url, "SHOW data_directory").await?;
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    if canonical(std::path::Path::new(&theirs)) == canonical(data) {
        Ok(())
    } else {
        Err(ProbeError(format!(
            "another postgres answers on this port (data_directory {theirs})"
        )))
    }
}

/// Succeeds when the Redis at `url` is process `pid`: on a port another Redis holds,
/// `PING` would succeed against the wrong server.
pub async fn redis_is(url: &str, pid: u32) -> Result<(), ProbeError> {
    let theirs = redis_server_field(url, "process_id").await?;
    if theirs == pid.to_string() {
        Ok(())
    } else {
        Err(ProbeError(format!(
            "another redis answers on this port (process {theirs})"
        )))
    }
}

/// The server's `server_version`, e.g. `15.8 (Debian 15.8-0+deb12u1)`.
pub async fn postgres_version(url: &str) -> Result<String, ProbeError> {
    pg_scalar(url, "SHOW server_version").await
}

/// `redis_version` from `INFO server`.
pub async fn redis_version(url: &str) -> Result<String, ProbeError> {
    redis_server_field(url, "redis_version").await
}

/// One field of `INFO server`.
async fn redis_server_field(url: &str, field: &str) -> Result<String, ProbeError> {
    let mut info = redis::cmd("INFO");
    info.arg("server");
    redis_text(url, info)
        .await?
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| ProbeError(format!("INFO server has no {field}")))
}

/// Repeats `probe` until it succeeds or `timeout` passes; `alive` is checked between
/// attempts so a crashed process fails fast. Returns the last error on timeout.
pub async fn retry_until<F, Fut>(
    timeout: Duration,
    mut alive: impl FnMut() -> Result<(), ProbeError>,
    mut probe: F,
) -> Result<(), ProbeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), ProbeError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = ProbeError("no attempt made".into());
    loop {
        alive()?;
        match tokio::time::timeout_at(deadline, probe()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = e,
            Err(_) => return Err(last),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One GET that must answer 200 with JSON.
async fn http_json(url: &str) -> Result<serde_json::Value, ProbeError> {
    within_5s(async {
        let r = reqwest::get(url).await.map_err(ProbeError::from_display)?;
        if !r.status().is_success() {
            return Err(ProbeError(format!("{url} answered {}", r.status())));
        }
        r.json().await.map_err(ProbeError::from_display)
    })
    .await
}

/// Prometheus at `base` is ready and is the one started with `config_file`: another
/// Prometheus on a reused port would be ready too.
pub async fn prometheus_serves(
    base: &str,
    config_file: &std::path::Path,
) -> Result<(), ProbeError> {
    let flags = http_json(&format!("{base}/api/v1/status/flags")).await?;
    let want = config_file.display().to_string();
    match flags.pointer("/data/config.file").and_then(|f| f.as_str()) {
        Some(f) if f == want => Ok(()),
        other => Err(ProbeError(format!(
            "the Prometheus at {base} runs {}, not {want}",
            other.unwrap_or("no configuration file")
        ))),
    }
}

/// Alertmanager at `base` is ready and routes to `receiver_url`: another Alertmanager on
/// a reused port would be ready too.
pub async fn alertmanager_serves(base: &str, receiver_url: &str) -> Result<(), ProbeError> {
    let status = http_json(&format!("{base}/api/v2/status")).await?;
    let config = status
        .pointer("/config/original")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    if config.contains(receiver_url) {
        Ok(())
    } else {
        Err(ProbeError(format!(
            "the Alertmanager at {base} does not route to {receiver_url}"
        )))
    }
}
