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

/// One `SELECT 1` over a fresh connection.
pub async fn postgres_select_1(url: &str) -> Result<(), ProbeError> {
    let attempt = async {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(ProbeError::from_display)?;
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .map_err(ProbeError::from_display)?;
        let _ = conn.close().await;
        if one == 1 {
            Ok(())
        } else {
            Err(ProbeError(format!("SELECT 1 returned {one}")))
        }
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err(ProbeError("timed out after 5s".into())))
}

/// One `PING` over a fresh connection.
pub async fn redis_ping(url: &str) -> Result<(), ProbeError> {
    let attempt = async {
        let client = redis::Client::open(url).map_err(ProbeError::from_display)?;
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(ProbeError::from_display)?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut con)
            .await
            .map_err(ProbeError::from_display)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(ProbeError(format!("PING answered {pong}")))
        }
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err(ProbeError("timed out after 5s".into())))
}

/// The server's `server_version`, e.g. `15.8 (Debian 15.8-0+deb12u1)`.
pub async fn postgres_version(url: &str) -> Result<String, ProbeError> {
    let attempt = async {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(ProbeError::from_display)?;
        let v: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .map_err(ProbeError::from_display)?;
        let _ = conn.close().await;
        Ok(v)
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err(ProbeError("timed out after 5s".into())))
}

/// `redis_version` from `INFO server`.
pub async fn redis_version(url: &str) -> Result<String, ProbeError> {
    let attempt = async {
        let client = redis::Client::open(url).map_err(ProbeError::from_display)?;
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(ProbeError::from_display)?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut con)
            .await
            .map_err(ProbeError::from_display)?;
        info.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| ProbeError("INFO server has no redis_version".into()))
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err(ProbeError("timed out after 5s".into())))
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
