//! Coordinated-omission correction for closed-model load, against the users' own
//! schedule.
//!
//! A closed-model user sends, waits for the answer, thinks, and sends again. When the
//! service stalls, the user waits too, and the requests it would have sent on its usual
//! cadence are never sent: the stall is under-counted. The correction adds those
//! requests back, and only those:
//!
//! - A user's usual cadence is the run's median response time plus the mean think time:
//!   how often a user who is not held up sends.
//! - A request that took longer than one cadence hid the sends its user would have made
//!   at `sent + k × cadence`, as far as a send whose answer, at the usual response time,
//!   would not have come before the held-up one did.
//! - Such a hidden send counts only if it falls inside a stall: a span longer than one
//!   cadence in which no user got any answer. When other users' requests completed in
//!   the meantime, the service was serving, and the slow answer was that request's own
//!   (an independent slow response hides nothing; a request sent then would have been
//!   served as the others were).
//! - A hidden send at `t` is recorded with the latency it would have had: from `t` to
//!   when the held-up answer came.
//!
//! - And only while at least one other request was waiting too: with a single user
//!   waiting (one user, or the last one of a run), a slow answer cannot be told from a
//!   stall, and nothing is added.
//!
//! With fixed or independently varying latency nothing is added. Under a stall the
//! corrected view approaches what a constant-rate schedule at the same mean rate sees.

use std::time::Duration;

/// Resolution of the completion timeline.
const BUCKET_US: u64 = 10_000;

/// The completion timeline and the samples that may have hidden sends.
#[derive(Debug, Clone, Default)]
pub struct Omission {
    /// Answers that arrived, per 10 ms of the load phase.
    completions: Vec<u32>,
    /// Requests sent, per 10 ms of the load phase.
    starts: Vec<u32>,
    /// Transaction names, so that a candidate holds an index (24 bytes a sample).
    names: Vec<String>,
    /// Scored samples longer than the mean think time: (name index, sent µs, latency µs).
    candidates: Vec<(usize, u64, u64)>,
}

/// A hidden send, as the correction recreates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// The transaction of the held-up request.
    pub transaction: String,
    /// The latency the hidden send would have seen, µs.
    pub latency_us: u64,
}

impl Omission {
    /// Notes that a request sent at `at` (µs into the load phase) was answered after
    /// `latency` µs.
    pub fn completed(&mut self, at_us: u64, latency_us: u64) {
        for (series, t) in [
            (&mut self.starts, at_us),
            (&mut self.completions, at_us + latency_us),
        ] {
            let b = (t / BUCKET_US) as usize;
            if series.len() <= b {
                series.resize(b + 1, 0);
            }
            series[b] = series[b].saturating_add(1);
        }
    }

    /// Keeps a scored sample that may have hidden sends (one longer than `think_mean`).
    pub fn consider(
        &mut self,
        transaction: &str,
        at_us: u64,
        latency_us: u64,
        think_mean: Duration,
    ) {
        if latency_us <= think_mean.as_micros() as u64 {
            return;
        }
        let i = match self.names.iter().position(|n| n == transaction) {
            Some(i) => i,
            None => {
                self.names.push(transaction.to_owned());
                self.names.len() - 1
            }
        };
        self.candidates.push((i, at_us, latency_us));
    }

    /// The hidden sends, for users whose usual cadence is `cadence` and usual response
    /// time `usual`: those whose answer would not have come before the held-up one did.
    pub fn backfill(&self, cadence: Duration, usual: Duration) -> Vec<Backfill> {
        let usual = usual.as_micros() as u64;
        let c = cadence.as_micros() as u64;
        if c == 0 || self.candidates.is_empty() {
            return Vec::new();
        }
        let (prev, next) = self.neighbours();
        let waiting = self.waiting();
        let in_stall = |t_us: u64| {
            let b = (t_us / BUCKET_US) as usize;
            if waiting.get(b).is_none_or(|&w| w < 2) {
                return false;
            }
            let (Some(&p), Some(&n)) = (prev.get(b), next.get(b)) else {
                return false;
            };
            // Strictly between two answers, over more than a cadence with none.
            let (p, n) = (p.map_or(0, |p| p + 1), n.unwrap_or(usize::MAX));
            n != usize::MAX && (n.saturating_sub(p) as u64) * BUCKET_US > c
        };
        let mut out = Vec::new();
        for (tx, at, latency) in &self.candidates {
            let end = at + latency;
            // A send whose answer would not have come before the held-up one did.
            let mut t = at + c;
            while t + usual <= end {
                if in_stall(t) {
                    out.push(Backfill {
                        transaction: self.names[*tx].clone(),
                        latency_us: end - t,
                    });
                }
                t += c;
            }
        }
        out
    }

    /// For each bucket, how many requests were sent and not yet answered.
    fn waiting(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(self.completions.len());
        let (mut sent, mut answered) = (0i64, 0i64);
        for b in 0..self.completions.len() {
            sent += i64::from(self.starts.get(b).copied().unwrap_or(0));
            out.push(sent - answered);
            answered += i64::from(self.completions[b]);
        }
        out
    }

    /// For each bucket, the nearest bucket with an answer before it and after it
    /// (itself excluded).
    fn neighbours(&self) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let n = self.completions.len();
        let mut prev = vec![None; n];
        let mut next = vec![None; n];
        let mut last = None;
        for (i, p) in prev.iter_mut().enumerate() {
            *p = last;
            if self.completions[i] > 0 {
                last = Some(i);
            }
        }
        last = None;
        for i in (0..n).rev() {
            next[i] = last;
            if self.completions[i] > 0 {
                last = Some(i);
            }
        }
        (prev, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    #[test]
    fn answers_all_along_hide_nothing() {
        let mut o = Omission::default();
        // Ten users, 50 ms answers every 20 ms, one 500 ms answer among them.
        for i in 0..100 {
            o.completed(i * 20 * MS, 50 * MS);
        }
        o.completed(300 * MS, 500 * MS);
        o.consider("get", 300 * MS, 500 * MS, Duration::from_millis(150));
        assert!(o
            .backfill(Duration::from_millis(200), Duration::from_millis(50))
            .is_empty());
    }

    #[test]
    fn a_stall_hides_the_sends_of_the_users_cadence() {
        let mut o = Omission::default();
        for i in 0..10 {
            o.completed(i * 20 * MS, 50 * MS);
        }
        // Nothing answered from 250 ms until 2.25 s; one user sent at 250 ms, another
        // at 240 ms.
        o.completed(250 * MS, 2000 * MS);
        o.consider("get", 250 * MS, 2000 * MS, Duration::from_millis(150));
        o.completed(240 * MS, 2010 * MS);
        for i in 0..10 {
            o.completed(2300 * MS + i * 20 * MS, 50 * MS);
        }
        let b = o.backfill(Duration::from_millis(200), Duration::from_millis(250));
        let got: Vec<u64> = b.iter().map(|b| b.latency_us / MS).collect();
        // Sends at 450, 650, …, 1850 ms, each answered when the stall ended; one at
        // 2050 ms would have been answered after 2.25 s at the usual 250 ms.
        assert_eq!(got, vec![1800, 1600, 1400, 1200, 1000, 800, 600, 400]);
    }

    #[test]
    fn one_user_waiting_alone_is_not_a_stall() {
        let mut o = Omission::default();
        for i in 0..10 {
            o.completed(i * 20 * MS, 50 * MS);
        }
        // The last user of a run waits 2 s while nobody else is sending.
        o.completed(250 * MS, 2000 * MS);
        o.consider("get", 250 * MS, 2000 * MS, Duration::from_millis(150));
        assert!(o
            .backfill(Duration::from_millis(200), Duration::from_millis(50))
            .is_empty());
    }
}
