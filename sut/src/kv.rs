//! Redis access that never hangs a request: a lazily (re)connected connection manager,
//! and a deadline on every command. Callers treat an error as "cache unavailable".

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Cmd, FromRedisValue, Pipeline};
use tokio::sync::Mutex;

/// Redis with timeouts.
pub struct Kv {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    /// Deadline for one command.
    pub op_timeout: Duration,
}

/// Why a Redis command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// No answer in time.
    #[error("redis timed out after {0:?}")]
    Timeout(Duration),
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl Kv {
    /// A handle for `url`; no connection is made until the first command.
    pub fn new(url: &str, op_timeout: Duration) -> Result<Self, redis::RedisError> {
        Ok(Kv {
            client: redis::Client::open(url)?,
            conn: Mutex::new(None),
            op_timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, KvError> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(self.op_timeout)
            .set_number_of_retries(1);
        let c = tokio::time::timeout(
            self.op_timeout,
            ConnectionManager::new_with_config(self.client.clone(), cfg),
        )
        .await
        .map_err(|_| KvError::Timeout(self.op_timeout))??;
        *guard = Some(c.clone());
        Ok(c)
    }

    /// Runs one command within `op_timeout`.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, KvError> {
        self.query_within(cmd, self.op_timeout).await
    }

    /// Runs one command within `deadline` (for blocking commands such as BRPOP).
    pub async fn query_within<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        deadline: Duration,
    ) -> Result<T, KvError> {
        let mut c = self.connection().await?;
        tokio::time::timeout(deadline, cmd.query_async(&mut c))
            .await
            .map_err(|_| KvError::Timeout(deadline))?
            .map_err(KvError::from)
    }

    /// Runs a pipeline within `op_timeout`.
    pub async fn pipeline<T: FromRedisValue>(&self, p: &Pipeline) -> Result<T, KvError> {
        let mut c = self.connection().await?;
        tokio::time::timeout(self.op_timeout, p.query_async(&mut c))
            .await
            .map_err(|_| KvError::Timeout(self.op_timeout))?
            .map_err(KvError::from)
    }

    /// A dedicated connection for blocking pops, so they do not stall the shared one.
    pub async fn dedicated(&self) -> Result<redis::aio::MultiplexedConnection, KvError> {
        tokio::time::timeout(
            self.op_timeout,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| KvError::Timeout(self.op_timeout))?
        .map_err(KvError::from)
    }
}
