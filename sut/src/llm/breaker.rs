//! Seed 002 §3.2 circuit breaker: opens after `threshold` consecutive failures, rejects
//! calls while open, and after `timeout` lets one probe through (half-open). A successful
//! probe closes it; a failed one opens it again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The breaker's state, as exported in `circuit_breaker_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls are rejected.
    Open,
    /// One probe is in flight.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`, as `/health` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

struct Inner {
    state: BreakerState,
    failures: u32,
    opened_at: Option<Instant>,
}

/// A circuit breaker shared by every LLM call.
pub struct CircuitBreaker {
    threshold: u32,
    timeout: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(threshold: u32, timeout: Duration) -> Self {
        CircuitBreaker {
            threshold: threshold.max(1),
            timeout,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: 0,
                opened_at: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to make a call: `true` if it may go ahead.
    pub fn try_acquire(&self) -> bool {
        let mut s = self.lock();
        match s.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open => {
                if s.opened_at.is_some_and(|t| t.elapsed() >= self.timeout) {
                    s.state = BreakerState::HalfOpen;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Reports a successful call.
    pub fn on_success(&self) {
        let mut s = self.lock();
        s.state = BreakerState::Closed;
        s.failures = 0;
        s.opened_at = None;
    }

    /// Reports a failed call.
    pub fn on_failure(&self) {
        let mut s = self.lock();
        s.failures += 1;
        if s.state == BreakerState::HalfOpen || s.failures >= self.threshold {
            if s.state != BreakerState::Open {
                tracing::warn!(failures = s.failures, "LLM circuit breaker opened");
            }
            s.state = BreakerState::Open;
            s.opened_at = Some(Instant::now());
        }
    }

    /// The current state, with an expired open state shown as it will be on next use.
    pub fn state(&self) -> BreakerState {
        self.lock().state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_probes_after_timeout_and_closes_on_success() {
        let b = CircuitBreaker::new(5, Duration::from_millis(30));
        for _ in 0..4 {
            assert!(b.try_acquire());
            b.on_failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.try_acquire());
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.try_acquire(), "probe after timeout");
        assert!(!b.try_acquire(), "only one probe");
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.try_acquire());
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
