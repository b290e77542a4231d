//! Prometheus metrics (seed 002 §4.1, seeds 001/003): per-route counts and latency,
//! per-operation latency under the §2.2 names, breaker state, cache hits per tier, LLM
//! calls and fallbacks, and jobs.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Latency buckets in seconds: dense enough that percentiles read from them agree with
/// an HDR histogram of the same requests to within one bucket.
const BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5,
    2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0,
];

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{route,method,status}`.
    pub requests: IntCounterVec,
    /// `http_request_duration_seconds{route}`.
    pub request_duration: HistogramVec,
    /// `operation_duration_seconds{operation}`.
    pub operation_duration: HistogramVec,
    /// `circuit_breaker_state` (0 closed, 1 open, 2 half-open).
    pub breaker_state: IntGauge,
    /// `cache_hits_total{tier}` (L1, L2, L3).
    pub cache_hits: IntCounterVec,
    /// `cache_misses_total{cache}`.
    pub cache_misses: IntCounterVec,
    /// `llm_calls_total{model,outcome}`.
    pub llm_calls: IntCounterVec,
    /// `llm_fallbacks_total{kind}` (fallback_model, template).
    pub llm_fallbacks: IntCounterVec,
    /// `jobs_total{status}`.
    pub jobs: IntCounterVec,
    /// `db_pool_connections{state}`: the pool's connections `in_use` and `idle`, set at
    /// each scrape, so a queue for connections shows under load.
    pub db_pool: IntGaugeVec,
    /// `dependency_up{dependency}` (MET-3): 1 while the SUT's own probe of `database`,
    /// `redis` or `llm` succeeds, else 0; what the seeds' `pg_up` and `redis_up` read
    /// from exporters.
    pub dependency_up: IntGaugeVec,
    /// `operation_errors_total{operation}` (MET-3): operations that did not complete
    /// (a detector failed or timed out), beside their count in the duration histogram.
    pub operation_errors: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(BUCKETS.to_vec()),
            &["route"],
        )?;
        let operation_duration = HistogramVec::new(
            HistogramOpts::new(
                "operation_duration_seconds",
                "Latency of each seed 002 §2.2 operation",
            )
            .buckets(BUCKETS.to_vec()),
            &["operation"],
        )?;
        let breaker_state = IntGauge::new(
            "circuit_breaker_state",
            "LLM circuit breaker: 0 closed, 1 open, 2 half-open",
        )?;
        let cache_hits = IntCounterVec::new(
            Opts::new("cache_hits_total", "Pattern cache hits by tier"),
            &["tier"],
        )?;
        let cache_misses =
            IntCounterVec::new(Opts::new("cache_misses_total", "Cache misses"), &["cache"])?;
        let llm_calls = IntCounterVec::new(
            Opts::new("llm_calls_total", "LLM calls by model and outcome"),
            &["model", "outcome"],
        )?;
        let llm_fallbacks = IntCounterVec::new(
            Opts::new(
                "llm_fallbacks_total",
                "Responses not from the primary model",
            ),
            &["kind"],
        )?;
        let jobs = IntCounterVec::new(
            Opts::new("jobs_total", "Document jobs by final status"),
            &["status"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(operation_duration.clone()))?;
        registry.register(Box::new(breaker_state.clone()))?;
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        registry.register(Box::new(llm_calls.clone()))?;
        registry.register(Box::new(llm_fallbacks.clone()))?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let dependency_up = IntGaugeVec::new(
            Opts::new(
                "dependency_up",
                "Whether the service's own probe of a dependency succeeds (1) or not (0)",
            ),
            &["dependency"],
        )?;
        let operation_errors = IntCounterVec::new(
            Opts::new(
                "operation_errors_total",
                "Operations that did not complete, by seed 002 §2.2 name",
            ),
            &["operation"],
        )?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(dependency_up.clone()))?;
        registry.register(Box::new(operation_errors.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            request_duration,
            operation_duration,
            breaker_state,
            cache_hits,
            cache_misses,
            llm_calls,
            llm_fallbacks,
            jobs,
            db_pool,
            dependency_up,
            operation_errors,
        })
    }

    /// Sets `circuit_breaker_state` to `gauge` (0 closed, 1 open, 2 half-open).
    pub fn set_breaker(&self, gauge: i64) {
        let stuck = crate::defect::active(crate::defect::Defect::BreakerMetricStuck);
        self.breaker_state.set(if stuck { 0 } else { gauge });
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
