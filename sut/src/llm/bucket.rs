//! Seed 002 §3.2 token bucket in front of the LLM: `per_minute` calls a minute with a
//! burst of the same size. Callers wait for a token, up to a deadline.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// A token bucket.
pub struct TokenBucket {
    capacity: f64,
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket for `per_minute` calls a minute.
    pub fn new(per_minute: u32) -> Self {
        let capacity = f64::from(per_minute.max(1));
        TokenBucket {
            capacity,
            per_sec: capacity / 60.0,
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    /// Takes a token, waiting for one if needed; `false` if none comes within `max_wait`.
    pub async fn acquire(&self, max_wait: Duration) -> bool {
        let deadline = Instant::now() + max_wait;
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                s.0 =
                    (s.0 + now.duration_since(s.1).as_secs_f64() * self.per_sec).min(self.capacity);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return true;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.per_sec)
            };
            if Instant::now() + wait > deadline {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_then_refuses_without_waiting_past_deadline() {
        let b = TokenBucket::new(3);
        for _ in 0..3 {
            assert!(b.acquire(Duration::ZERO).await);
        }
        assert!(
            !b.acquire(Duration::from_millis(10)).await,
            "refill takes 20 s"
        );
    }
}
