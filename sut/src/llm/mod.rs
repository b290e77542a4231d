//! Response generation under the seed 002 §1.3 policy: the primary model with up to
//! `llm_attempts` tries and exponential backoff with jitter, then the fallback model,
//! then a template answer. The §3.2 token bucket and circuit breaker sit in front of
//! every call; while the breaker is open no call leaves the service.

mod breaker;
mod bucket;
mod client;
pub mod quality;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use rand::Rng;
use serde::Serialize;

pub use breaker::{BreakerState, CallHealth, CircuitBreaker, Permit};
pub use bucket::TokenBucket;
pub use client::{LlmCallError, LlmClient};
pub use quality::Grounds;
pub use stream::TokenStream;

use crate::config::Config;
use crate::metrics::Metrics;

/// The shortest call worth making: less time than this left, and the next step is taken.
const MIN_CALL: Duration = Duration::from_millis(100);

/// Time left until `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Where an answer came from (the response's `fallback` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// The primary model answered.
    None,
    /// The fallback model answered.
    FallbackModel,
    /// No model answered; the caller must build a template answer.
    Template,
}

/// The outcome of generation.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The model's text; `None` when the caller must use its template.
    pub text: Option<String>,
    /// Which path produced it.
    pub fallback: Fallback,
    /// Seed 002 §1.3 quality gate score.
    pub quality_score: f64,
    /// Confidence in the answer.
    pub confidence: f64,
}

impl Generation {
    /// The template outcome: confidence and quality 0.6, as the seed specifies.
    pub fn template() -> Self {
        Generation {
            text: None,
            fallback: Fallback::Template,
            quality_score: 0.6,
            confidence: 0.6,
        }
    }
}

/// What one attempt under the policy gave: an answer to keep, or one the quality gate
/// refused (asked for again at once).
enum Tried<T> {
    Accepted(T),
    Rejected,
}

/// A streamed answer under way: its first token, the rest, and which model sent it.
pub struct Opened {
    /// The first token's text.
    pub first: String,
    /// The tokens after it.
    pub rest: TokenStream,
    /// `none` (the primary) or `fallback_model`.
    pub fallback: Fallback,
}

/// The LLM with its limiter, breaker and retry policy.
pub struct LlmService {
    client: LlmClient,
    primary: String,
    fallback: String,
    /// Shared with `/health` and `/metrics`.
    pub breaker: CircuitBreaker,
    bucket: TokenBucket,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
    fallback_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl LlmService {
    /// Builds the service from configuration.
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Self {
        let l = &config.limits;
        LlmService {
            client: LlmClient::new(&config.llm_base_url, &config.llm_api_key),
            primary: config.llm_model.clone(),
            fallback: config.llm_fallback_model.clone(),
            breaker: CircuitBreaker::new(l.breaker_threshold, l.breaker_timeout),
            bucket: TokenBucket::new(l.llm_requests_per_minute),
            attempts: l.llm_attempts,
            backoff: l.llm_initial_backoff,
            timeout: l.llm_timeout,
            fallback_timeout: l.llm_fallback_timeout,
            metrics,
        }
    }

    fn backoff_for(&self, attempt: u32) -> Duration {
        let base = self.backoff.as_secs_f64() * 2f64.powi(attempt as i32);
        Duration::from_secs_f64(base * rand::thread_rng().gen_range(0.5..1.5))
    }

    async fn call(
        &self,
        model: &str,
        system: &str,
        prompt: &str,
        max_tokens: u32,
        timeout: Duration,
    ) -> Option<Result<String, LlmCallError>> {
        self.call_with(model, |client| {
            client.complete(model, system, prompt, max_tokens, timeout)
        })
        .await
    }

    /// One call through the breaker, counted in the metrics: `None` when the breaker
    /// is open.
    async fn call_with<'c, T, Fut>(
        &'c self,
        model: &str,
        call: impl FnOnce(&'c LlmClient) -> Fut,
    ) -> Option<Result<T, LlmCallError>>
    where
        Fut: std::future::Future<Output = Result<T, LlmCallError>>,
    {
        let Some(permit) = self.breaker.try_acquire() else {
            self.metrics.set_breaker(self.breaker.state().gauge());
            return None;
        };
        let r = call(&self.client).await;
        permit.report(match &r {
            Ok(_) => CallHealth::Answered,
            // Throttled or refused: the API is up, and the cause is ours.
            Err(LlmCallError::RateLimited(_)) => CallHealth::ClientError,
            Err(e) if e.is_client_error() => CallHealth::ClientError,
            Err(_) => CallHealth::Failed,
        });
        self.metrics.set_breaker(self.breaker.state().gauge());
        let outcome = match &r {
            Ok(_) => "ok",
            Err(LlmCallError::RateLimited(_)) => "rate_limited",
            Err(LlmCallError::Timeout(_)) => "timeout",
            Err(_) => "error",
        };
        self.metrics
            .llm_calls
            .with_label_values(&[model, outcome])
            .inc();
        Some(r)
    }

    /// Generates an answer by `deadline`, degrading step by step; never fails.
    ///
    /// The primary attempts, their backoffs and the token wait share the time up to the
    /// deadline less a reserve for the fallback model (its timeout, or a quarter of the
    /// time there is, whichever is less); the fallback gets what is left.
    pub async fn generate(
        &self,
        system: &str,
        prompt: &str,
        max_tokens: u32,
        deadline: Instant,
        grounds: &Grounds,
    ) -> Generation {
        let answered = self
            .under_policy(deadline, |model, timeout| async move {
                let r = self
                    .call(model, system, prompt, max_tokens, timeout)
                    .await?;
                Some(r.map(|text| {
                    // Seed 002 §1.3's quality gate: an answer the context does not bear
                    // out is asked for again.
                    let q = grounds.score(&text);
                    if q >= quality::PASS {
                        Tried::Accepted((text, q))
                    } else {
                        tracing::warn!(quality = q, model, "LLM answer failed the quality gate");
                        Tried::Rejected
                    }
                }))
            })
            .await;
        match answered {
            Some(((text, q), fallback)) => Generation {
                quality_score: q,
                text: Some(text),
                fallback,
                confidence: if fallback == Fallback::None {
                    0.85
                } else {
                    0.75
                },
            },
            None => self.template(),
        }
    }

    /// Opens a streamed answer by `deadline`, under the same policy as [`generate`]
    /// (`Self::generate`) until its first token: a model whose stream fails before it
    /// is retried, then the fallback model is asked; `None` means the caller answers
    /// from its template. The first token's arrival is the call's success for the
    /// breaker; a stream that breaks off later is reported by [`Opened::broke_off`].
    pub async fn open_stream(
        &self,
        system: &str,
        prompt: &str,
        max_tokens: u32,
        deadline: Instant,
    ) -> Option<Opened> {
        let opened = self
            .under_policy(deadline, |model, timeout| async move {
                let r = self
                    .call_with(model, |client| {
                        client.open_stream(model, system, prompt, max_tokens, timeout)
                    })
                    .await?;
                Some(r.map(|(first, rest)| Tried::Accepted((first, rest))))
            })
            .await;
        opened.map(|((first, rest), fallback)| Opened {
            first,
            rest,
            fallback,
        })
    }

    /// The seed 002 §1.3 policy around `attempt` (one call to a model within a
    /// timeout): the primary with retries and backoff, then the fallback model; `None`
    /// when neither gave an answer it accepted (or the breaker is open, or the bucket
    /// empty), and the caller answers from its template.
    async fn under_policy<'s, T, F, Fut>(
        &'s self,
        deadline: Instant,
        mut attempt: F,
    ) -> Option<(T, Fallback)>
    where
        F: FnMut(&'s str, Duration) -> Fut,
        Fut: std::future::Future<Output = Option<Result<Tried<T>, LlmCallError>>>,
    {
        let reserve = self.fallback_timeout.min(left(deadline) / 4);
        let primary_window = || left(deadline).saturating_sub(reserve);
        if !self
            .bucket
            .acquire(self.timeout.min(primary_window()))
            .await
        {
            tracing::warn!("LLM token bucket empty; answering from template");
            return None;
        }
        for n in 0..self.attempts {
            let last = n + 1 == self.attempts;
            let window = primary_window();
            if window < MIN_CALL {
                break;
            }
            // How long to wait before the next attempt, if at all.
            let wait = match attempt(&self.primary, self.timeout.min(window)).await {
                None => return None,
                Some(Ok(Tried::Accepted(t))) => return Some((t, Fallback::None)),
                Some(Ok(Tried::Rejected)) => None,
                // Seed 002 §1.3: a timeout goes straight to the next attempt.
                Some(Err(LlmCallError::Timeout(_))) => None,
                // The API said how long to stay away; the backoff may ask for longer.
                Some(Err(LlmCallError::RateLimited(after))) => Some(after.max(self.backoff_for(n))),
                Some(Err(e)) if e.is_client_error() => {
                    // The request itself was refused (an oversized prompt, say): asking
                    // the same model again gets the same answer.
                    tracing::warn!(error = %e, "primary LLM refused the request");
                    break;
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, attempt = n, "primary LLM call failed");
                    Some(self.backoff_for(n))
                }
            };
            if let Some(wait) = wait {
                if last || wait + MIN_CALL > primary_window() {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
        }
        let window = left(deadline).min(self.fallback_timeout);
        if window < MIN_CALL {
            return None;
        }
        match attempt(&self.fallback, window).await {
            Some(Ok(Tried::Accepted(t))) => {
                self.metrics
                    .llm_fallbacks
                    .with_label_values(&["fallback_model"])
                    .inc();
                Some((t, Fallback::FallbackModel))
            }
            _ => None,
        }
    }

    /// The template outcome, counted in the metrics.
    pub fn template(&self) -> Generation {
        self.metrics
            .llm_fallbacks
            .with_label_values(&["template"])
            .inc();
        Generation::template()
    }

    /// True when the LLM is considered down: the breaker is not closed.
    pub fn is_down(&self) -> bool {
        self.breaker.state() != BreakerState::Closed
    }
}

#[cfg(test)]
mod tests;
