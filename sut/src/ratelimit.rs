//! The per-key API rate limit, shared by every instance through Redis: a fixed one-minute
//! window per key (`INCR` + `EXPIRE`). If Redis is unavailable the limit falls back to
//! this process's own count, so an outage neither blocks nor unlimits callers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::kv::Kv;

/// Over the limit: retry after this many seconds (the rest of the window, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limit exceeded; retry after {0} s")]
pub struct Limited(pub u64);

/// The limiter.
pub struct ApiLimiter {
    kv: Arc<Kv>,
    per_minute: u32,
    local: Mutex<HashMap<(String, i64), u32>>,
}

impl ApiLimiter {
    /// `per_minute` requests per key per minute.
    pub fn new(kv: Arc<Kv>, per_minute: u32) -> Self {
        ApiLimiter {
            kv,
            per_minute,
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request for `key`; `Err(Limited)` with the seconds left in the window if over.
    pub async fn check(&self, key: &str) -> Result<(), Limited> {
        let now = chrono::Utc::now().timestamp();
        let window = now / 60;
        let retry_after = (60 - now % 60).max(1) as u64;
        let redis_key = format!("ratelimit:{key}:{window}");
        let mut p = redis::pipe();
        p.atomic()
            .cmd("INCR")
            .arg(&redis_key)
            .cmd("EXPIRE")
            .arg(&redis_key)
            .arg(61)
            .ignore();
        let count: u32 = match self.kv.pipeline::<(u32,)>(&p).await {
            Ok((n,)) => n,
            Err(e) => {
                tracing::warn!(error = %e, "rate limit store unavailable; counting locally");
                let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
                local.retain(|(_, w), _| *w >= window);
                let n = local.entry((key.to_owned(), window)).or_insert(0);
                *n += 1;
                *n
            }
        };
        if count > self.per_minute {
            Err(Limited(retry_after))
        } else {
            Ok(())
        }
    }
}
