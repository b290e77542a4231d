//! The seed 002 §2.3 pattern cache: L1 in-process LRU, L2 Redis (24 h TTL), L3 the
//! Postgres `customer_patterns` table (fresh for 24 h), then analysis. A cache failure
//! is logged and skipped; it never fails a request.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use serde::Serialize;
use sqlx::PgPool;

use super::patterns::{analyze_entity, PatternInsight};
use crate::kv::Kv;
use crate::metrics::Metrics;

const TTL: Duration = Duration::from_secs(24 * 3600);

/// Where patterns came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tier {
    /// In-process.
    L1,
    /// Redis.
    L2,
    /// Postgres `customer_patterns`.
    L3,
    /// Computed now.
    Computed,
    /// Computed now, but some detectors ran out of time: what they would have found is
    /// missing, and the result is not cached.
    Partial,
}

impl Tier {
    /// True for the three cache tiers.
    pub fn is_cache(self) -> bool {
        matches!(self, Tier::L1 | Tier::L2 | Tier::L3)
    }
}

/// The three-tier pattern cache.
pub struct PatternCache {
    l1: Mutex<LruCache<String, (Instant, Vec<PatternInsight>)>>,
    kv: Arc<Kv>,
    db: PgPool,
    metrics: Arc<Metrics>,
    read_timeout: Duration,
    pattern_timeout: Duration,
}

impl PatternCache {
    /// A cache over `kv` and `db`.
    pub fn new(
        kv: Arc<Kv>,
        db: PgPool,
        metrics: Arc<Metrics>,
        read_timeout: Duration,
        pattern_timeout: Duration,
    ) -> Self {
        PatternCache {
            l1: Mutex::new(LruCache::new(
                NonZeroUsize::new(1000).unwrap_or(NonZeroUsize::MIN),
            )),
            kv,
            db,
            metrics,
            read_timeout,
            pattern_timeout,
        }
    }

    fn l1_get(&self, id: &str) -> Option<Vec<PatternInsight>> {
        let mut l1 = self.l1.lock().unwrap_or_else(|p| p.into_inner());
        match l1.get(id) {
            Some((at, v)) if at.elapsed() < TTL => Some(v.clone()),
            _ => None,
        }
    }

    fn l1_put(&self, id: &str, v: &[PatternInsight]) {
        let mut l1 = self.l1.lock().unwrap_or_else(|p| p.into_inner());
        l1.put(id.to_owned(), (Instant::now(), v.to_vec()));
    }

    async fn l2_get(&self, id: &str) -> Option<Vec<PatternInsight>> {
        let raw: Option<String> = match self
            .kv
            .query(redis::cmd("GET").arg(format!("patterns:{id}")))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "pattern cache L2 read failed");
                return None;
            }
        };
        raw.and_then(|s| serde_json::from_str(&s).ok())
    }

    async fn l3_get(&self, id: &str) -> Option<Vec<PatternInsight>> {
        let q = sqlx::query_as::<_, (String, f64, f64, String, serde_json::Value, Option<String>)>(
            "SELECT pattern_type, confidence, significance, insight, data, recommendation \
               FROM app.customer_patterns WHERE customer_id = $1 \
                AND computed_at > now() - interval '24 hours' AND confidence > 0.6 \
              ORDER BY significance DESC",
        )
        .bind(id)
        .fetch_all(&self.db);
        match tokio::time::timeout(self.read_timeout, q).await {
            Ok(Ok(rows)) if !rows.is_empty() => Some(
                rows.into_iter()
                    .map(
                        |(
                            pattern_type,
                            confidence,
                            significance,
                            insight,
                            data,
                            recommendation,
                        )| PatternInsight {
                            pattern_type,
                            confidence,
                            significance,
                            insight,
                            data,
                            recommendation,
                        },
                    )
                    .collect(),
            ),
            Ok(Ok(_)) => None,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "pattern cache L3 read failed");
                None
            }
            Err(_) => {
                tracing::warn!("pattern cache L3 read timed out");
                None
            }
        }
    }

    async fn store(&self, id: &str, patterns: &[PatternInsight]) {
        self.l1_put(id, patterns);
        if let Ok(json) = serde_json::to_string(patterns) {
            let cmd = redis::cmd("SETEX")
                .arg(format!("patterns:{id}"))
                .arg(TTL.as_secs())
                .arg(json)
                .clone();
            if let Err(e) = self.kv.query::<()>(&cmd).await {
                tracing::warn!(error = %e, "pattern cache L2 write failed");
            }
        }
        for p in patterns {
            let q = sqlx::query(
                "INSERT INTO app.customer_patterns \
                   (customer_id, pattern_type, confidence, significance, insight, data, recommendation, computed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
                 ON CONFLICT (customer_id, pattern_type) DO UPDATE SET \
                   confidence = EXCLUDED.confidence, significance = EXCLUDED.significance, \
                   insight = EXCLUDED.insight, data = EXCLUDED.data, \
                   recommendation = EXCLUDED.recommendation, computed_at = now()",
            )
            .bind(id)
            .bind(&p.pattern_type)
            .bind(p.confidence)
            .bind(p.significance)
            .bind(&p.insight)
            .bind(&p.data)
            .bind(&p.recommendation)
            .execute(&self.db);
            match tokio::time::timeout(Duration::from_secs(2), q).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "pattern cache L3 write failed"),
                Err(_) => tracing::warn!("pattern cache L3 write timed out"),
            }
        }
    }

    /// Patterns for one entity and the tier they came from. Detection, when the caches
    /// miss, stops at the pattern timeout or at `deadline`, whichever is first, and keeps
    /// what the detectors found by then.
    pub async fn get(
        &self,
        id: &str,
        deadline: tokio::time::Instant,
    ) -> (Vec<PatternInsight>, Tier) {
        if let Some(v) = self.l1_get(id) {
            self.metrics.cache_hits.with_label_values(&["L1"]).inc();
            return (v, Tier::L1);
        }
        if let Some(v) = self.l2_get(id).await {
            self.metrics.cache_hits.with_label_values(&["L2"]).inc();
            self.l1_put(id, &v);
            return (v, Tier::L2);
        }
        if let Some(v) = self.l3_get(id).await {
            self.metrics.cache_hits.with_label_values(&["L3"]).inc();
            self.l1_put(id, &v);
            return (v, Tier::L3);
        }
        self.metrics
            .cache_misses
            .with_label_values(&["patterns"])
            .inc();
        let until = deadline.min(tokio::time::Instant::now() + self.pattern_timeout);
        let (v, complete) = analyze_entity(&self.db, id, until).await;
        if !complete {
            return (v, Tier::Partial);
        }
        if !v.is_empty() {
            self.store(id, &v).await;
        }
        (v, Tier::Computed)
    }
}
