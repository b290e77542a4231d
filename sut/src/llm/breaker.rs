//! Seed 002 §3.2 circuit breaker: opens after `threshold` consecutive failures, rejects
//! calls while open, and after `timeout` lets one probe through (half-open). A successful
//! probe closes it; a failed one opens it again.
//!
//! A call holds a [`Permit`] and reports through it. A permit dropped without a report
//! (the caller went away mid-call) is no evidence either way: a probe's lets the next
//! call probe again, so the breaker can never stick in half-open.

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

/// What a call showed about the API's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallHealth {
    /// The API answered the call.
    Answered,
    /// The API refused the request itself (4xx, 429 included): it is up, and the fault
    /// is the request's. Counts neither way, but ends a probe as a success.
    ClientError,
    /// A 5xx, a timeout or a transport failure: counts toward opening.
    Failed,
}

/// Leave to make one call; report its outcome with [`Permit::report`].
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    reported: bool,
}

impl Permit<'_> {
    /// Reports how the call went.
    pub fn report(mut self, health: CallHealth) {
        self.reported = true;
        self.breaker.record(health);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            self.breaker.abandon_probe();
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

    /// Asks to make a call: a permit if it may go ahead.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut s = self.lock();
        let probe = match s.state {
            BreakerState::Closed => false,
            BreakerState::HalfOpen => return None,
            BreakerState::Open => {
                if s.opened_at.is_none_or(|t| t.elapsed() < self.timeout)
                    || crate::defect::active(crate::defect::Defect::BreakerNeverCloses)
                {
                    return None;
                }
                s.state = BreakerState::HalfOpen;
                true
            }
        };
        Some(Permit {
            breaker: self,
            probe,
            reported: false,
        })
    }

    fn record(&self, health: CallHealth) {
        let mut s = self.lock();
        match health {
            CallHealth::Answered => {
                s.state = BreakerState::Closed;
                s.failures = 0;
                s.opened_at = None;
            }
            CallHealth::ClientError => {
                // The API answered, so a probe has shown it is up; in the closed state a
                // request's own fault says nothing about the API.
                if s.state == BreakerState::HalfOpen {
                    s.state = BreakerState::Closed;
                    s.failures = 0;
                    s.opened_at = None;
                }
            }
            CallHealth::Failed => {
                s.failures += 1;
                if s.state == BreakerState::HalfOpen || s.failures >= self.threshold {
                    if s.state != BreakerState::Open {
                        tracing::warn!(failures = s.failures, "LLM circuit breaker opened");
                    }
                    s.state = BreakerState::Open;
                    s.opened_at = Some(Instant::now());
                }
            }
        }
    }

    /// A call that had answered broke off afterwards (a stream that failed after its
    /// first token): a failure of the API, counted as any other.
    pub fn broke_off(&self) {
        self.record(CallHealth::Failed);
    }

    /// A probe ended with no outcome: open again, with the timeout already spent, so
    /// the next call probes at once.
    fn abandon_probe(&self) {
        let mut s = self.lock();
        if s.state == BreakerState::HalfOpen {
            s.state = BreakerState::Open;
        }
    }

    /// Whether a call asked for now would go ahead: closed, or open with its timeout
    /// spent (the call would be the probe).
    pub fn admits_calls(&self) -> bool {
        let s = self.lock();
        match s.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open => s.opened_at.is_some_and(|t| t.elapsed() >= self.timeout),
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
            b.try_acquire().expect("closed").report(CallHealth::Failed);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().expect("closed").report(CallHealth::Failed);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none());
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.try_acquire().expect("probe after timeout");
        assert!(b.try_acquire().is_none(), "only one probe");
        probe.report(CallHealth::Failed);
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        b.try_acquire().expect("probe").report(CallHealth::Answered);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_dropped_probe_lets_the_next_call_probe() {
        let b = CircuitBreaker::new(1, Duration::from_millis(20));
        b.try_acquire().expect("closed").report(CallHealth::Failed);
        std::thread::sleep(Duration::from_millis(30));
        drop(b.try_acquire().expect("probe"));
        assert_eq!(b.state(), BreakerState::Open);
        b.try_acquire()
            .expect("a new probe at once")
            .report(CallHealth::Answered);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn client_errors_neither_open_nor_reset_it() {
        let b = CircuitBreaker::new(2, Duration::from_secs(60));
        b.try_acquire().expect("closed").report(CallHealth::Failed);
        b.try_acquire()
            .expect("closed")
            .report(CallHealth::ClientError);
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().expect("closed").report(CallHealth::Failed);
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "two failures in a row, a 4xx between"
        );
    }
}
