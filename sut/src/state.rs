//! Shared application state, built once at start-up.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::chat::entities::EntityDirectory;
use crate::chat::pattern_cache::PatternCache;
use crate::chat::Deps;
use crate::config::Config;
use crate::kv::Kv;
use crate::llm::LlmService;
use crate::metrics::Metrics;
use crate::ratelimit::ApiLimiter;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Postgres pool (lazy: the service starts even if the database is down).
    pub db: PgPool,
    /// Redis.
    pub kv: Arc<Kv>,
    /// The LLM with its breaker.
    pub llm: Arc<LlmService>,
    /// The pattern cache.
    pub patterns: Arc<PatternCache>,
    /// Entity names for fallback resolution.
    pub directory: Arc<EntityDirectory>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Per-key rate limiter.
    pub limiter: Arc<ApiLimiter>,
    /// Set once migrations have run.
    pub migrated: Arc<AtomicBool>,
}

/// Start-up failures (bad URLs; never an unavailable dependency).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// DATABASE_URL does not parse.
    #[error("DATABASE_URL: {0}")]
    Database(#[from] sqlx::Error),
    /// REDIS_URL does not parse.
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
    /// Metrics registration failed.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl AppState {
    /// What the chat flow needs, lent for one answer.
    pub fn chat_deps(&self) -> Deps<'_> {
        Deps {
            db: &self.db,
            directory: &self.directory,
            patterns: &self.patterns,
            llm: &self.llm,
            limits: &self.config.limits,
        }
    }

    /// Builds the state without contacting any dependency.
    pub fn new(config: Config) -> Result<Self, StateError> {
        let statement_timeout = config.limits.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(&config.database_url)?
            .options([("statement_timeout", statement_timeout.as_str())]);
        let pool_size = config.limits.db_pool_size.max(1);
        // The pool is kept full, and `migrate_until_done` fills it before `/ready`: a
        // connection opened on demand costs a request tens of ms (SCRAM and start-up),
        // which put the first bursts of every fresh start into the tail.
        let db = PgPoolOptions::new()
            .max_connections(pool_size)
            .min_connections(pool_size)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        let kv = Arc::new(Kv::new(&config.redis_url, Duration::from_millis(500))?);
        let metrics = Arc::new(Metrics::new()?);
        let llm = Arc::new(LlmService::new(&config, metrics.clone()));
        let patterns = Arc::new(PatternCache::new(
            kv.clone(),
            db.clone(),
            metrics.clone(),
            config.limits.cache_read_timeout,
            config.limits.pattern_timeout,
        ));
        let limiter = Arc::new(ApiLimiter::new(
            kv.clone(),
            config.limits.api_rate_per_minute,
        ));
        Ok(AppState {
            config: Arc::new(config),
            db,
            kv,
            llm,
            patterns,
            directory: Arc::new(EntityDirectory::default()),
            metrics,
            limiter,
            migrated: Arc::new(AtomicBool::new(false)),
        })
    }
}
