//! Configuration, from the environment only (the contract's clause CFG-1). Every
//! timeout and limit defaults to the seeds' value and can be overridden, so tests can
//! shorten the breaker's 60 s without changing behaviour.

use std::net::SocketAddr;
use std::time::Duration;

/// A missing or malformed variable, named.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SUT_LISTEN_ADDR`, default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `LLM_BASE_URL`, e.g. `https://api.anthropic.com`.
    pub llm_base_url: String,
    /// `LLM_API_KEY`.
    pub llm_api_key: String,
    /// `LLM_MODEL`: the primary model.
    pub llm_model: String,
    /// `LLM_FALLBACK_MODEL`: the faster fallback model.
    pub llm_fallback_model: String,
    /// `JWT_SECRET`: HS256 key for bearer tokens.
    pub jwt_secret: String,
    /// `SUT_SEED_FILE`: seed data to load idempotently after migrations, before
    /// `/ready` says yes. Unset means no seeding.
    pub seed_file: Option<std::path::PathBuf>,
    /// Limits and timeouts.
    pub limits: Limits,
}

/// Timeouts and limits, with the seeds' defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Seed 002 §3.1: total budget for parallel retrieval (5 s).
    pub retrieval_timeout: Duration,
    /// Seed 002 §1.2: per pattern detection (5 s).
    pub pattern_timeout: Duration,
    /// Seed 002 §1.2: pattern cache read in Postgres (1 s).
    pub cache_read_timeout: Duration,
    /// Seed 002 §1.3: primary LLM timeout (30 s).
    pub llm_timeout: Duration,
    /// Seed 002 §1.3: fallback LLM timeout (15 s).
    pub llm_fallback_timeout: Duration,
    /// Seed 002 §1.3: attempts on the primary model (3).
    pub llm_attempts: u32,
    /// Seed 002 §1.3: first retry delay (1 s), doubled each attempt.
    pub llm_initial_backoff: Duration,
    /// Seed 002 §3.2: LLM calls per minute (60), token bucket.
    pub llm_requests_per_minute: u32,
    /// Seed 002 §3.2: failures that open the breaker (5).
    pub breaker_threshold: u32,
    /// Seed 002 §3.2: how long the breaker stays open (60 s). `SUT_BREAKER_TIMEOUT`.
    pub breaker_timeout: Duration,
    /// Per-key API rate limit per minute, shared through Redis. `SUT_RATE_LIMIT_PER_MINUTE`.
    pub api_rate_per_minute: u32,
    /// Largest accepted body (1 MiB). `SUT_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// Document workers (seed 000: 5 concurrent jobs).
    pub workers: usize,
    /// Seed 000: attempts per job (3).
    pub job_max_retries: u32,
    /// How long a chat request may take end to end (18 s): under the seed 002 §2.2 p99
    /// budget of 20 s for `request_handler.handle_request`. `SUT_REQUEST_DEADLINE_MS`.
    pub request_deadline: Duration,
    /// Postgres `statement_timeout` on every connection (5 s, the retrieval budget), so
    /// no query outlives the request that made it. `SUT_STATEMENT_TIMEOUT_MS`.
    pub statement_timeout: Duration,
    /// The most database connections the pool opens (`SUT_DB_POOL_SIZE`).
    pub db_pool_size: u32,
    /// A model's stream that sends nothing for this long has broken off (5 s).
    /// `SUT_LLM_STREAM_STALL_MS`.
    pub llm_stream_stall: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            retrieval_timeout: Duration::from_secs(5),
            pattern_timeout: Duration::from_secs(5),
            cache_read_timeout: Duration::from_secs(1),
            llm_timeout: Duration::from_secs(30),
            llm_fallback_timeout: Duration::from_secs(15),
            llm_attempts: 3,
            llm_initial_backoff: Duration::from_secs(1),
            llm_requests_per_minute: 60,
            breaker_threshold: 5,
            breaker_timeout: Duration::from_secs(60),
            api_rate_per_minute: 600,
            max_body_bytes: 1024 * 1024,
            workers: 5,
            job_max_retries: 3,
            request_deadline: Duration::from_secs(18),
            statement_timeout: Duration::from_secs(5),
            db_pool_size: 32,
            llm_stream_stall: Duration::from_secs(5),
        }
    }
}

fn required(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<String, ConfigError> {
    match get(var) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError {
            var,
            message: "required but not set".into(),
        }),
    }
}

/// A required URL whose scheme is one of `schemes` and which names a host.
fn url(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    schemes: &[&str],
) -> Result<String, ConfigError> {
    let v = required(get, var)?;
    let host = schemes
        .iter()
        .find_map(|s| v.trim().strip_prefix(s)?.strip_prefix("://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(' ') => Ok(v),
        _ => Err(ConfigError {
            var,
            message: format!("'{v}' is not a {} URL with a host", schemes.join(" or ")),
        }),
    }
}

fn parsed<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e| ConfigError {
            var,
            message: format!("'{v}': {e}"),
        }),
    }
}

fn millis(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    parsed(get, var, default.as_millis() as u64).map(Duration::from_millis)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Limits::default();
        let limits = Limits {
            retrieval_timeout: millis(&get, "SUT_RETRIEVAL_TIMEOUT_MS", d.retrieval_timeout)?,
            pattern_timeout: millis(&get, "SUT_PATTERN_TIMEOUT_MS", d.pattern_timeout)?,
            cache_read_timeout: millis(&get, "SUT_CACHE_READ_TIMEOUT_MS", d.cache_read_timeout)?,
            llm_timeout: millis(&get, "SUT_LLM_TIMEOUT_MS", d.llm_timeout)?,
            llm_fallback_timeout: millis(
                &get,
                "SUT_LLM_FALLBACK_TIMEOUT_MS",
                d.llm_fallback_timeout,
            )?,
            llm_attempts: parsed(&get, "SUT_LLM_ATTEMPTS", d.llm_attempts)?.max(1),
            llm_initial_backoff: millis(&get, "SUT_LLM_BACKOFF_MS", d.llm_initial_backoff)?,
            llm_requests_per_minute: parsed(
                &get,
                "SUT_LLM_REQUESTS_PER_MINUTE",
                d.llm_requests_per_minute,
            )?
            .max(1),
            breaker_threshold: parsed(&get, "SUT_BREAKER_THRESHOLD", d.breaker_threshold)?.max(1),
            breaker_timeout: millis(&get, "SUT_BREAKER_TIMEOUT_MS", d.breaker_timeout)?,
            api_rate_per_minute: parsed(&get, "SUT_RATE_LIMIT_PER_MINUTE", d.api_rate_per_minute)?
                .max(1),
            max_body_bytes: parsed(&get, "SUT_MAX_BODY_BYTES", d.max_body_bytes)?,
            workers: parsed(&get, "SUT_WORKERS", d.workers)?,
            job_max_retries: parsed(&get, "SUT_JOB_MAX_RETRIES", d.job_max_retries)?.max(1),
            llm_stream_stall: millis(&get, "SUT_LLM_STREAM_STALL_MS", d.llm_stream_stall)?,
            request_deadline: millis(&get, "SUT_REQUEST_DEADLINE_MS", d.request_deadline)?,
            statement_timeout: millis(&get, "SUT_STATEMENT_TIMEOUT_MS", d.statement_timeout)?,
            db_pool_size: parsed(&get, "SUT_DB_POOL_SIZE", d.db_pool_size)?,
        };
        Ok(Config {
            listen: parsed(
                &get,
                "SUT_LISTEN_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            database_url: url(&get, "DATABASE_URL", &["postgres", "postgresql"])?,
            redis_url: url(&get, "REDIS_URL", &["redis", "rediss"])?,
            llm_base_url: url(&get, "LLM_BASE_URL", &["http", "https"])?
                .trim_end_matches('/')
                .to_owned(),
            llm_api_key: required(&get, "LLM_API_KEY")?,
            llm_model: get("LLM_MODEL").unwrap_or_else(|| "claude-sonnet-4-5".into()),
            llm_fallback_model: get("LLM_FALLBACK_MODEL")
                .unwrap_or_else(|| "claude-haiku-4-5".into()),
            jwt_secret: required(&get, "JWT_SECRET")?,
            seed_file: get("SUT_SEED_FILE")
                .filter(|v| !v.trim().is_empty())
                .map(Into::into),
            limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const BASE: [(&str, &str); 5] = [
        ("DATABASE_URL", "postgres://x"),
        ("REDIS_URL", "redis://x"),
        ("LLM_BASE_URL", "http://llm/"),
        ("LLM_API_KEY", "k"),
        ("JWT_SECRET", "s"),
    ];

    #[test]
    fn defaults_are_the_seeds_values() {
        let c = Config::from_lookup(env(&BASE)).expect("valid");
        assert_eq!(c.limits.breaker_threshold, 5);
        assert_eq!(c.limits.breaker_timeout, Duration::from_secs(60));
        assert_eq!(c.limits.retrieval_timeout, Duration::from_secs(5));
        assert!(c.limits.request_deadline < Duration::from_secs(20));
        assert_eq!(c.limits.statement_timeout, Duration::from_secs(5));
        assert_eq!(c.llm_base_url, "http://llm");
    }

    #[test]
    fn missing_and_malformed_variables_are_named() {
        let err = Config::from_lookup(env(&BASE[1..])).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        let mut bad = BASE.to_vec();
        bad.push(("SUT_BREAKER_TIMEOUT_MS", "soon"));
        assert_eq!(
            Config::from_lookup(env(&bad)).unwrap_err().var,
            "SUT_BREAKER_TIMEOUT_MS"
        );
        for (var, value) in [
            ("LLM_BASE_URL", "not a url"),
            ("LLM_BASE_URL", "ftp://llm"),
            ("DATABASE_URL", "postgres://"),
            ("REDIS_URL", "localhost:6379"),
        ] {
            let mut bad: Vec<(&str, &str)> =
                BASE.iter().filter(|(k, _)| *k != var).copied().collect();
            bad.push((var, value));
            let err = Config::from_lookup(env(&bad)).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().contains(var), "{err}");
        }
    }
}
